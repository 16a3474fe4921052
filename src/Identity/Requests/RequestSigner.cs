using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;

namespace Xmbl.Cluster.Identity.Requests;

/// <summary>Signs requests for one identity (<see cref="RequestSignature"/>): a fresh nonce and the current time each time.</summary>
/// <param name="key">The signing key; the signer does not own it.</param>
/// <param name="time">The clock; the system clock when null.</param>
public sealed class RequestSigner(Ed25519KeyPair key, TimeProvider? time = null)
{
    private readonly Ed25519KeyPair _key = key ?? throw new ArgumentNullException(nameof(key));
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The signer's did:key.</summary>
    public string Did => _key.PublicKey.Did;

    /// <summary>Signs a request whose body hashes to <paramref name="contentSha256"/>.</summary>
    /// <param name="method">The HTTP method, exactly as it will be sent.</param>
    /// <param name="target">The request target (path and query), exactly as it will be sent.</param>
    /// <param name="contentSha256">The body's SHA-256, lower-case hex (<see cref="RequestSignature.EmptyBodySha256"/> for none).</param>
    /// <returns>The five header values.</returns>
    public SignedRequestHeaders Sign(string method, string target, string contentSha256)
    {
        if (!RequestSignature.IsSignableTarget(method, target))
        {
            throw new ArgumentException($"'{method} {target}' cannot be signed: the target must be origin-form (/path?query) of visible ASCII.", nameof(target));
        }

        if (!RequestSignature.IsValidContentSha256(contentSha256))
        {
            throw new ArgumentException("The body hash must be 64 lower-case hex digits.", nameof(contentSha256));
        }

        var timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        var nonce = Base64Url.EncodeToString(random);
        var length = RequestSignature.CanonicalLength(method, target, contentSha256, Did, timestamp, nonce);
        var canonical = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            RequestSignature.WriteCanonical(canonical.AsSpan(0, length), method, target, contentSha256, Did, timestamp, nonce);
            Span<byte> signature = stackalloc byte[Ed25519KeyPair.SignatureLength];
            _key.Sign(canonical.AsSpan(0, length), signature);
            return new SignedRequestHeaders(Did, timestamp, nonce, contentSha256, Convert.ToHexStringLower(signature));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(canonical);
        }
    }

    /// <summary>The SHA-256 of <paramref name="body"/> as the scheme writes it.</summary>
    public static string HashBody(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>The SHA-256 of a stream read to its end, as the scheme writes it.</summary>
    public static async Task<string> HashBodyAsync(Stream body, CancellationToken cancellationToken = default) =>
        Convert.ToHexStringLower(await SHA256.HashDataAsync(body, cancellationToken).ConfigureAwait(false));
}
