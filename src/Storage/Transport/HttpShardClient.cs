using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>An <see cref="IShardClient"/> that reaches other members over HTTP (the endpoints of <see cref="ShardEndpointRouteBuilderExtensions.MapShardEndpoints(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder, string?)"/>), with signed requests and streamed bodies.</summary>
/// <param name="http">The HTTP client (its timeout should allow a whole shard to transfer).</param>
/// <param name="resolver">Finds each member's base address.</param>
/// <param name="authenticator">Signs the requests with the cluster secret.</param>
/// <param name="routePrefix">The route prefix the members serve shards under.</param>
public sealed class HttpShardClient(HttpClient http, IShardNodeResolver resolver, ShardRequestAuthenticator authenticator, string routePrefix = ShardTransportOptions.DefaultRoutePrefix) : IShardClient
{
    /// <inheritdoc/>
    public async Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Put, nodeId, shardId.Value);
        request.Content = new StreamContent(content, 256 * 1024);
        request.Content.Headers.ContentLength = length;
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (sha256 is not null)
        {
            request.Headers.Add(ShardHttpHeaders.Sha256, sha256);
        }

        using var response = await SendAsync(nodeId, request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            throw new ShardCorruptException(shardId, sha256 ?? "(any)", null, $"node '{nodeId}' received different bytes");
        }

        if (response.StatusCode == HttpStatusCode.InsufficientStorage)
        {
            throw new ShardStoreFullException(length);
        }

        await EnsureSuccessAsync(nodeId, response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<ShardInfo>(ShardHttpHeaders.Json, cancellationToken)
            ?? throw new IOException($"Node '{nodeId}' answered a shard put without a body.");
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, nodeId, shardId.Value);
        var response = await SendAsync(nodeId, request, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ShardNotFoundException(shardId, nodeId);
            }

            await EnsureSuccessAsync(nodeId, response, cancellationToken);
            var indexed = response.Headers.TryGetValues(ShardHttpHeaders.Sha256, out var values) ? values.FirstOrDefault() : null;
            var expected = expectedSha256 ?? indexed ?? throw new IOException($"Node '{nodeId}' sent shard '{shardId}' without its hash.");
            var length = response.Content.Headers.ContentLength ?? throw new IOException($"Node '{nodeId}' sent shard '{shardId}' without a length.");
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new HashVerifyingReadStream(body, shardId, expected, length, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Delete, nodeId, shardId.Value);
        using var response = await SendAsync(nodeId, request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(nodeId, response, cancellationToken);
        return true;
    }

    /// <inheritdoc/>
    public async Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Post, nodeId, shardId.Value + "/scrub");
        using var response = await SendAsync(nodeId, request, cancellationToken);
        await EnsureSuccessAsync(nodeId, response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<ShardScrubResult>(ShardHttpHeaders.Json, cancellationToken)
            ?? throw new IOException($"Node '{nodeId}' answered a scrub without a body.");
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, ShardListing.MaxPageSize);
        var query = string.Create(CultureInfo.InvariantCulture, $"?limit={limit}") + (after is { } a ? "&after=" + a.Value : "");
        using var request = Request(HttpMethod.Get, nodeId, ShardEndpointRouteBuilderExtensions.ListSegment + query);
        using var response = await SendAsync(nodeId, request, cancellationToken);
        await EnsureSuccessAsync(nodeId, response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<ShardListing[]>(ShardHttpHeaders.Json, cancellationToken)
            ?? throw new IOException($"Node '{nodeId}' answered a listing without a body.");
    }

    /// <inheritdoc/>
    public async Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, nodeId, null);
        using var response = await SendAsync(nodeId, request, cancellationToken);
        await EnsureSuccessAsync(nodeId, response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<ShardStoreStats>(ShardHttpHeaders.Json, cancellationToken)
            ?? throw new IOException($"Node '{nodeId}' answered a stats request without a body.");
    }

    private HttpRequestMessage Request(HttpMethod method, string nodeId, string? rest)
    {
        if (!ShardNodeRegistry.IsValidNodeId(nodeId))
        {
            throw new ArgumentException($"'{nodeId}' is not a valid node id.", nameof(nodeId));
        }

        if (!resolver.TryResolve(nodeId, out var baseAddress))
        {
            throw new ShardNodeUnavailableException(nodeId, "its address is not known");
        }

        // The base address may carry a path (a relayed silo's is {relay}/internal/relay/{silo}/): keep it.
        var path = $"{baseAddress.AbsolutePath.TrimEnd('/')}{routePrefix.TrimEnd('/')}/{nodeId}{(rest is null ? "" : "/" + rest)}";
        var request = new HttpRequestMessage(method, new Uri(baseAddress, path));
        authenticator.Sign(request);
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(string nodeId, HttpRequestMessage request, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
        {
            throw new ShardNodeUnavailableException(nodeId, e.Message, e);
        }
    }

    private static async Task EnsureSuccessAsync(string nodeId, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        if (detail.Length > 300)
        {
            detail = detail[..300];
        }

        if (response.StatusCode == HttpStatusCode.MisdirectedRequest)
        {
            throw new ShardNodeUnavailableException(nodeId, "the member at that address does not host this node");
        }

        throw new HttpRequestException($"Node '{nodeId}' answered {(int)response.StatusCode} {response.ReasonPhrase}: {detail}", null, response.StatusCode);
    }
}
