using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>Serves this process's shard stores to other cluster members.</summary>
/// <remarks>
/// Routes under the prefix (default <c>/internal/shards</c>): <c>PUT|GET|DELETE {nodeId}/{shardId}</c>,
/// <c>POST {nodeId}/{shardId}/scrub</c>, <c>GET {nodeId}/.list?after={shardId}&amp;limit={n}</c> (a page of shard ids and
/// creation times; a shard id never starts with '.', so the segment cannot name a shard) and <c>GET {nodeId}</c> (stats). Every request must carry a valid
/// <see cref="ShardRequestAuthenticator"/> signature, or it gets 401. An unknown node gets 421, an unknown shard 404,
/// a body that does not match its announced hash or length 422, a full store 507.
/// </remarks>
public static class ShardEndpointRouteBuilderExtensions
{
    /// <summary>The path segment, after the node id, of the shard listing.</summary>
    public const string ListSegment = ".list";

    /// <summary>Maps the shard endpoints using the <see cref="ShardNodeRegistry"/>, <see cref="ShardRequestAuthenticator"/> and <see cref="ShardTransportOptions"/> registered in DI.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="routePrefix">The prefix; default <see cref="ShardTransportOptions.RoutePrefix"/>.</param>
    public static RouteGroupBuilder MapShardEndpoints(this IEndpointRouteBuilder endpoints, string? routePrefix = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        return endpoints.MapShardEndpoints(
            services.GetRequiredService<ShardNodeRegistry>(),
            services.GetRequiredService<ShardRequestAuthenticator>(),
            routePrefix ?? services.GetService<IOptions<ShardTransportOptions>>()?.Value.RoutePrefix ?? ShardTransportOptions.DefaultRoutePrefix,
            services.GetService<ILoggerFactory>()?.CreateLogger(typeof(ShardEndpointRouteBuilderExtensions)));
    }

    /// <summary>Maps the shard endpoints over <paramref name="registry"/>, admitting only requests <paramref name="authenticator"/> accepts.</summary>
    public static RouteGroupBuilder MapShardEndpoints(this IEndpointRouteBuilder endpoints, ShardNodeRegistry registry, ShardRequestAuthenticator authenticator, string routePrefix = ShardTransportOptions.DefaultRoutePrefix, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(authenticator);
        var group = endpoints.MapGroup(routePrefix);
        group.AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            if (authenticator.TryValidate(request, out var failure))
            {
                return await next(context);
            }

            StorageLog.ShardRequestRejected(logger, request.Method, request.Path, context.HttpContext.Connection.RemoteIpAddress?.ToString(), failure);
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: failure);
        });

        group.MapPut("/{nodeId}/{shardId}", async (HttpContext http, string nodeId, string shardId) =>
        {
            if (!TryResolve(registry, nodeId, shardId, out var store, out var id, out var error))
            {
                return error;
            }

            // Shards can be larger than Kestrel's default body limit; the store bounds them by the announced length.
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            var sha = http.Request.Headers[ShardHttpHeaders.Sha256].ToString();
            try
            {
                var info = await store.PutAsync(id, http.Request.Body, http.Request.ContentLength, sha.Length == 0 ? null : sha, http.RequestAborted);
                return Results.Json(info, ShardHttpHeaders.Json, statusCode: StatusCodes.Status201Created);
            }
            catch (ShardCorruptException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Shard content mismatch", detail: e.Message);
            }
            catch (ShardStoreFullException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status507InsufficientStorage, title: "Shard store full", detail: e.Message);
            }
        });

        group.MapGet("/{nodeId}/{shardId}", async (HttpContext http, string nodeId, string shardId) =>
        {
            if (!TryResolve(registry, nodeId, shardId, out var store, out var id, out var error))
            {
                return error;
            }

            var info = await store.GetInfoAsync(id, http.RequestAborted);
            if (info is null)
            {
                return Results.NotFound();
            }

            Stream body;
            try
            {
                body = await store.OpenReadAsync(id, http.RequestAborted);
            }
            catch (ShardNotFoundException)
            {
                return Results.NotFound();
            }

            return new ShardBodyResult(body, info);
        });

        group.MapDelete("/{nodeId}/{shardId}", async (HttpContext http, string nodeId, string shardId) =>
            !TryResolve(registry, nodeId, shardId, out var store, out var id, out var error) ? error
            : await store.DeleteAsync(id, http.RequestAborted) ? Results.NoContent()
            : Results.NotFound());

        group.MapPost("/{nodeId}/{shardId}/scrub", async (HttpContext http, string nodeId, string shardId) =>
            !TryResolve(registry, nodeId, shardId, out var store, out var id, out var error) ? error
            : Results.Json(await store.ScrubAsync(id, http.RequestAborted), ShardHttpHeaders.Json));

        // The query is not signed (the signature covers the path), which gives an attacker on the wire nothing it could
        // not get by rewriting the unsigned response; the nonce still stops a replay.
        group.MapGet("/{nodeId}/" + ListSegment, async (HttpContext http, string nodeId, string? after, string? limit) =>
        {
            if (!registry.TryGet(nodeId, out var store))
            {
                return UnknownNode(nodeId);
            }

            // Parsed here rather than bound as int, so a malformed query from a stranger still meets the 401 filter first.
            var pageSize = ShardListing.MaxPageSize;
            if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > ShardListing.MaxPageSize))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid limit", detail: $"limit must be between 1 and {ShardListing.MaxPageSize}.");
            }

            ShardId? afterId = null;
            if (!string.IsNullOrEmpty(after))
            {
                if (!ShardId.TryParse(after, out var parsed))
                {
                    return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid shard id", detail: "after is not a valid shard id.");
                }

                afterId = parsed;
            }

            var page = new List<ShardListing>(pageSize);
            await foreach (var info in store.ListAsync(afterId, http.RequestAborted))
            {
                page.Add(new ShardListing(info.Id, info.CreatedUtc));
                if (page.Count == pageSize)
                {
                    break;
                }
            }

            return Results.Json(page, ShardHttpHeaders.Json);
        });

        group.MapGet("/{nodeId}", async (HttpContext http, string nodeId) =>
            registry.TryGet(nodeId, out var store)
                ? Results.Json(await store.GetStatsAsync(http.RequestAborted), ShardHttpHeaders.Json)
                : UnknownNode(nodeId));

        return group;
    }

    private static bool TryResolve(ShardNodeRegistry registry, string nodeId, string shardId, out IShardStore store, out ShardId id, out IResult error)
    {
        id = default;
        error = null!;
        if (!registry.TryGet(nodeId, out store))
        {
            error = UnknownNode(nodeId);
            return false;
        }

        if (!ShardId.TryParse(shardId, out id))
        {
            error = Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid shard id", detail: $"'{shardId}' is not a valid shard id.");
            return false;
        }

        return true;
    }

    private static IResult UnknownNode(string nodeId) =>
        Results.Problem(statusCode: StatusCodes.Status421MisdirectedRequest, title: "Unknown node", detail: $"Node '{nodeId}' is not hosted here.");

    /// <summary>Streams a shard with its length and indexed hash; the client verifies the bytes against the hash.</summary>
    private sealed class ShardBodyResult(Stream body, ShardInfo info) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await using var _ = body;
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/octet-stream";
            response.ContentLength = info.Length;
            response.Headers[ShardHttpHeaders.Sha256] = info.Sha256;
            try
            {
                await body.CopyToAsync(response.Body, 256 * 1024, httpContext.RequestAborted);
            }
            catch (ShardCorruptException) when (response.HasStarted)
            {
                // Every byte has been sent with the indexed hash in the header: the client's own check reports the
                // corruption, which is clearer for it than a connection reset.
            }
        }
    }
}
