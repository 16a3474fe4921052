using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>The gateway's object API, streamed both ways; requests are signed when a key is given (which the client then owns).</summary>
internal sealed class ObjectClient(HttpClient http, Ed25519KeyPair? key = null) : IDisposable
{
    /// <summary>The response header carrying an object's SHA-256.</summary>
    public const string Sha256Header = "X-Xmbl-Sha256";

    public static ObjectClient Create(Uri gateway, Ed25519KeyPair? key) => new(Wallets.Client(gateway, key), key);

    /// <summary>Uploads <paramref name="content"/>, announcing <paramref name="sha256"/> (hashed beforehand) as the signed body hash.</summary>
    public async Task<JsonElement> PutAsync(string address, Stream content, long length, string sha256, string contentType, CancellationToken ct)
    {
        using var body = new StreamContent(content, 1024 * 1024);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        body.Headers.ContentLength = length;
        using var request = new HttpRequestMessage(HttpMethod.Put, Url(address)) { Content = body };
        request.Headers.TryAddWithoutValidation(RequestSignature.ContentSha256Header, sha256);
        using var response = await http.SendAsync(request, ct);
        return await ReadJsonAsync(response, ct);
    }

    /// <summary>Starts a download; the caller streams the body and disposes the response.</summary>
    public async Task<HttpResponseMessage> GetAsync(string address, CancellationToken ct)
    {
        var response = await http.GetAsync(Url(address), HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw new ObjectClientException(ProblemText.Describe(response.StatusCode, await response.Content.ReadAsStringAsync(ct)));
            }
        }

        return response;
    }

    public async Task<JsonElement> ListAsync(string @namespace, string? prefix, string? after, int limit, CancellationToken ct)
    {
        var query = $"/api/objects/{Uri.EscapeDataString(@namespace)}?limit={limit}"
            + (prefix is { Length: > 0 } ? "&prefix=" + Uri.EscapeDataString(prefix) : "")
            + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
        using var response = await http.GetAsync(new Uri(query, UriKind.Relative), ct);
        return await ReadJsonAsync(response, ct);
    }

    public async Task DeleteAsync(string address, CancellationToken ct)
    {
        using var response = await http.DeleteAsync(Url(address), ct);
        if (response.StatusCode != HttpStatusCode.NoContent)
        {
            throw new ObjectClientException(ProblemText.Describe(response.StatusCode, await response.Content.ReadAsStringAsync(ct)));
        }
    }

    public void Dispose()
    {
        http.Dispose();
        key?.Dispose();
    }

    /// <summary>Splits <c>namespace/name</c>; false when there is no name part.</summary>
    public static bool TrySplit(string address, out string @namespace, out string name)
    {
        var slash = address.IndexOf('/', StringComparison.Ordinal);
        @namespace = slash > 0 ? address[..slash] : address;
        name = slash > 0 ? address[(slash + 1)..] : "";
        return slash > 0 && name.Length > 0;
    }

    /// <summary>
    /// The object's URL, sent exactly as built: System.Uri would otherwise resolve <c>a/../b</c> to <c>b</c> here, and
    /// the gateway (which refuses dot segments) would store the wrong name instead of saying why.
    /// </summary>
    private Uri Url(string address)
    {
        TrySplit(address, out var ns, out var name);
        var escapedName = string.Join('/', name.Split('/').Select(Uri.EscapeDataString));
        var origin = (http.BaseAddress ?? throw new InvalidOperationException("The client has no gateway address.")).GetLeftPart(UriPartial.Authority);
        return new Uri($"{origin}/api/objects/{Uri.EscapeDataString(ns)}/{escapedName}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new ObjectClientException(ProblemText.Describe(response.StatusCode, text));
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

/// <summary>The gateway refused or failed an object request; the message is ready to print.</summary>
internal sealed class ObjectClientException(string message) : Exception(message);
