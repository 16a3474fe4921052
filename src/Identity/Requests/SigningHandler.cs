namespace Xmbl.Cluster.Identity.Requests;

/// <summary>
/// An <see cref="HttpClient"/> handler that signs every request it sends (<see cref="RequestSignature"/>).
/// </summary>
/// <remarks>
/// The body hash is taken from a <see cref="RequestSignature.ContentSha256Header"/> the caller already set (a streamed
/// upload announces the hash of what it will send, computed beforehand); otherwise the content is buffered and hashed.
/// Signed headers replace any of the same name.
/// </remarks>
/// <param name="signer">Signs for the caller's identity.</param>
public sealed class SigningHandler(RequestSigner signer) : DelegatingHandler
{
    private readonly RequestSigner _signer = signer ?? throw new ArgumentNullException(nameof(signer));

    /// <summary>Signs <paramref name="request"/> in place, hashing its content unless the hash was announced.</summary>
    public static async Task SignAsync(RequestSigner signer, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        if (!uri.IsAbsoluteUri)
        {
            throw new InvalidOperationException("Sign the request once its URI is absolute (send it through an HttpClient with this handler).");
        }

        string hash;
        if (request.Headers.TryGetValues(RequestSignature.ContentSha256Header, out var announced))
        {
            hash = announced.Single();
        }
        else if (request.Content is null)
        {
            hash = RequestSignature.EmptyBodySha256;
        }
        else
        {
            await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
            hash = RequestSigner.HashBody(await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
        }

        var headers = signer.Sign(request.Method.Method, uri.PathAndQuery, hash);
        Set(request, RequestSignature.IdentityHeader, headers.Identity!);
        Set(request, RequestSignature.TimestampHeader, headers.Timestamp!);
        Set(request, RequestSignature.NonceHeader, headers.Nonce!);
        Set(request, RequestSignature.ContentSha256Header, headers.ContentSha256!);
        Set(request, RequestSignature.SignatureHeader, headers.Signature!);
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await SignAsync(_signer, request, cancellationToken).ConfigureAwait(false);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static void Set(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
    }
}
