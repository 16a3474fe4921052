using System.Collections.Frozen;
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

namespace Xmbl.Cluster.Storage.Transport.Relay;

/// <summary>
/// Maps the shard relay under <see cref="ShardRelay.RoutePrefix"/>. As a relay (<see cref="ShardRelayOptions.Serve"/>):
/// <c>GET {silo}/.tunnel</c> with <c>Upgrade: xmbl-shard-relay</c> turns the connection into an idle tunnel of that
/// silo, and <c>{silo}/{shard route}</c> is forwarded over one of its tunnels. As a relayed silo
/// (<see cref="ShardRelayOptions.Via"/>): this silo's shard endpoints under <c>{own silo}/{shard route}</c>, where the
/// requests arriving through its tunnels land. Every request carries the cluster secret's signature over its full path;
/// the relay checks it before forwarding and the relayed silo checks it again.
/// </summary>
public static class ShardRelayEndpointRouteBuilderExtensions
{
    // Hop-by-hop headers (RFC 9110 §7.6.1) and Host: each hop sets its own.
    private static readonly FrozenSet<string> HopByHop = new[]
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly Uri TunnelOrigin = new("http://relayed-silo/");

    /// <summary>Maps the relay with the services registered by <c>AddShardRelay</c>; returns the group to add conventions to.</summary>
    public static RouteGroupBuilder MapShardRelay(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var options = services.GetRequiredService<IOptions<ShardRelayOptions>>().Value;
        var transport = services.GetRequiredService<IOptions<ShardTransportOptions>>().Value;
        var authenticator = services.GetRequiredService<ShardRequestAuthenticator>();
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger(typeof(ShardRelay)) ?? NullLogger.Instance;
        var group = endpoints.MapGroup(ShardRelay.RoutePrefix);
        var shardRoute = transport.RoutePrefix.Trim('/') + "/";

        if (options.Serve)
        {
            var hub = services.GetRequiredService<ShardRelayHub>();
            group.MapGet("/{silo}/" + ShardRelay.TunnelSegment, (HttpContext http, string silo) => AcceptTunnelAsync(http, silo, hub, authenticator, logger));
            group.Map("/{silo}/{**rest}", (HttpContext http, string silo, string? rest) =>
                rest is not null && rest.StartsWith(shardRoute, StringComparison.Ordinal)
                    ? ForwardAsync(http, silo, hub, authenticator, logger)
                    : Task.FromResult(Problem(StatusCodes.Status404NotFound, "Not Found", "The relay forwards shard requests only.")));
        }

        if (options.ViaUri is not null)
        {
            // The literal silo segment takes precedence over the {silo} parameter above.
            var own = services.GetRequiredService<ShardRelayIdentity>().Silo;
            group.MapShardEndpoints(
                services.GetRequiredService<ShardNodeRegistry>(),
                authenticator,
                "/" + own + transport.RoutePrefix,
                services.GetService<ILoggerFactory>()?.CreateLogger(typeof(ShardEndpointRouteBuilderExtensions)));
        }

        return group;
    }

    private static async Task<IResult> AcceptTunnelAsync(HttpContext http, string silo, ShardRelayHub hub, ShardRequestAuthenticator authenticator, ILogger logger)
    {
        if (Refusal(http, silo, hub, authenticator, logger) is { } refused)
        {
            return refused;
        }

        var request = http.Request;

        var upgrade = http.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true } || !string.Equals(request.Headers.Upgrade.ToString(), ShardRelay.UpgradeProtocol, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.Upgrade = ShardRelay.UpgradeProtocol;
            return Problem(StatusCodes.Status426UpgradeRequired, "Upgrade Required", $"A tunnel is an HTTP/1.1 request with 'Connection: Upgrade' and 'Upgrade: {ShardRelay.UpgradeProtocol}'.");
        }

        if (!hub.HasRoom(silo))
        {
            StorageLog.RelayTunnelRefused(logger, silo, http.Connection.RemoteIpAddress?.ToString(), hub.IdleTunnels(silo));
            return Problem(StatusCodes.Status429TooManyRequests, "Too Many Requests", "This silo already keeps the most idle tunnels allowed here (Xmbl:Storage:Relay:MaxTunnelsPerSilo).");
        }

        http.Response.Headers.Upgrade = ShardRelay.UpgradeProtocol;
        var stream = await upgrade.UpgradeAsync();
        using var tunnel = hub.Watch(silo, stream);
        if (!hub.TryAdd(silo, tunnel))
        {
            // Another tunnel took the last place meanwhile: closing this one tells the silo.
            return Results.Empty;
        }

        // The connection lives as long as the tunnel: until it dies idle, or the client that took it lets it go.
        await tunnel.Completion.WaitAsync(hub.Stopping).ContinueWith(static _ => { }, TaskScheduler.Default);
        return Results.Empty;
    }

    private static async Task<IResult> ForwardAsync(HttpContext http, string silo, ShardRelayHub hub, ShardRequestAuthenticator authenticator, ILogger logger)
    {
        if (Refusal(http, silo, hub, authenticator, logger) is { } refused)
        {
            return refused;
        }

        var request = http.Request;

        // Shards can be larger than Kestrel's default body limit; the relayed silo's store bounds them.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(TunnelOrigin, request.Path.ToUriComponent() + request.QueryString.ToUriComponent()));
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(request.Body, 64 * 1024);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await hub.InvokerFor(silo).SendAsync(forward, http.RequestAborted);
        }
        catch (HttpRequestException e) when (!http.RequestAborted.IsCancellationRequested)
        {
            var unavailable = e.InnerException is RelayTunnelUnavailableException;
            StorageLog.RelayForwardFailed(logger, request.Method, request.Path, silo, e.InnerException?.Message ?? e.Message);
            return Problem(
                unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway,
                unavailable ? "Service Unavailable" : "Bad Gateway",
                unavailable ? e.InnerException!.Message : $"The relayed silo '{silo}' did not answer: {e.Message}");
        }

        using (response)
        {
            http.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    http.Response.Headers[name] = values.ToArray();
                }
            }

            await using var body = await response.Content.ReadAsStreamAsync(http.RequestAborted);
            await body.CopyToAsync(http.Response.Body, 64 * 1024, http.RequestAborted);
        }

        return Results.Empty;
    }

    /// <summary>What tunnels and forwarded requests are refused for alike: no valid signature, a bad silo name, a stopping relay.</summary>
    private static IResult? Refusal(HttpContext http, string silo, ShardRelayHub hub, ShardRequestAuthenticator authenticator, ILogger logger)
    {
        var request = http.Request;
        if (!authenticator.TryValidate(request, out var failure))
        {
            StorageLog.ShardRequestRejected(logger, request.Method, request.Path, http.Connection.RemoteIpAddress?.ToString(), failure);
            return Problem(StatusCodes.Status401Unauthorized, "Unauthorized", failure);
        }

        if (!ShardRelay.IsValidSiloName(silo))
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", "silo: 1-200 characters of [A-Za-z0-9._-], not starting with '.'.");
        }

        return hub.Stopping.IsCancellationRequested
            ? Problem(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", "This relay is stopping.")
            : null;
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(statusCode: status, title: title, detail: detail);
}

/// <summary>This silo's name as the relay knows it (the path segment of its relayed address).</summary>
/// <param name="Silo">The silo id.</param>
public sealed record ShardRelayIdentity(string Silo);
