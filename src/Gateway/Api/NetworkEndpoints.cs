using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Gateway.Network;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary><c>GET /api/network/events</c>: the network page's live feed as server-sent events.</summary>
internal static class NetworkEndpoints
{
    /// <summary>How long a browser waits before reconnecting a dropped stream (the SSE <c>retry:</c> field).</summary>
    public const int ReconnectMilliseconds = 5000;

    private static readonly byte[] Preamble = Encoding.ASCII.GetBytes($"retry: {ReconnectMilliseconds}\n\n");
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    public static void MapNetworkEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/network/events", StreamAsync).WithName("NetworkEvents")
            .WithSummary("Server-sent events for the network page: the current cluster, recent jobs, objects, repairs and ledger, then every change (events cluster, job, objects, repair, ledger; comments as heartbeats). 503 when Xmbl:Gateway:Network:MaxStreams streams are open.");

        // Streams never end by themselves: end them when the host stops, or it would wait its whole shutdown timeout for them.
        var services = app.ServiceProvider;
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(() => services.GetService<NetworkFeed>()?.Dispose());
    }

    private static async Task StreamAsync(HttpContext context, NetworkFeed feed, CancellationToken cancellationToken)
    {
        using var subscription = feed.TrySubscribe();
        if (subscription is null)
        {
            context.Response.Headers.RetryAfter = (ReconnectMilliseconds / 1000).ToString(CultureInfo.InvariantCulture);
            await Problems.Unavailable($"{feed.Options.MaxStreams} event streams are open, the most this gateway serves ({NetworkFeedOptions.SectionName}:{nameof(NetworkFeedOptions.MaxStreams)}), or it is stopping; retry later.").ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store";
        // Proxies such as nginx would otherwise hold events back until their buffer fills.
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var body = response.Body;
        await body.WriteAsync(Preamble, cancellationToken);
        await body.FlushAsync(cancellationToken);
        var events = subscription.Events;
        var heartbeat = feed.Options.Heartbeat;
        try
        {
            while (true)
            {
                bool more;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    idle.CancelAfter(heartbeat);
                    try
                    {
                        more = await events.WaitToReadAsync(idle.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        await body.WriteAsync(KeepAlive, cancellationToken);
                        await body.FlushAsync(cancellationToken);
                        continue;
                    }
                }

                // Completed: the stream fell behind or the feed closed. Ending the response makes the browser reconnect.
                if (!more)
                {
                    return;
                }

                while (events.TryRead(out var change))
                {
                    await body.WriteAsync(change.ServerSentEvent, cancellationToken);
                }

                await body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; disposing the subscription frees its queue and, for the last one, stops the source.
        }
    }
}
