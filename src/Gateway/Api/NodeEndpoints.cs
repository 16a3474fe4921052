using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Operator controls for nodes: <c>POST /api/nodes/{id}/stop</c> and <c>/start</c>. A silo switches its own nodes; a
/// standalone gateway hosts none and reaches the node's silo through the node's host grain, placed on that silo.
/// </summary>
internal static class NodeEndpoints
{
    public static void MapNodeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/nodes/{id}/stop", (string id, HttpContext context, [FromServices] LocalNodes? local, NodeDirectory directory, IGrainFactory grains) =>
                SwitchAsync(id, context, local, directory, grains, online: false)).WithName("StopNode")
            .WithSummary("Operator only. Stops a node of this silo (through a standalone gateway: any node) as a crash would: no heartbeats, shards offline. Once the cluster sees it dead (after the death timeout) the scheduler gives it no new jobs.");
        app.MapPost("/api/nodes/{id}/start", (string id, HttpContext context, [FromServices] LocalNodes? local, NodeDirectory directory, IGrainFactory grains) =>
                SwitchAsync(id, context, local, directory, grains, online: true)).WithName("StartNode")
            .WithSummary("Operator only. Restarts a stopped node of this silo (through a standalone gateway: any node).");
    }

    private static async Task<IResult> SwitchAsync(string id, HttpContext context, LocalNodes? local, NodeDirectory directory, IGrainFactory grains, bool online)
    {
        if (Accounts.OperatorOnly(context, online ? "start nodes" : "stop nodes") is { } refused)
        {
            return refused;
        }

        if (local is not null)
        {
            if (local.Find(id) is not { } node)
            {
                return Problems.NotFound($"Node '{id}' is not hosted by this silo; send the request to the silo that hosts it.");
            }

            local.SetOnline(node, online);
            return Results.Ok(new { id = node.Id, online });
        }

        if (await directory.GetAsync(id, context.RequestAborted) is not { } known)
        {
            return Problems.NotFound($"No node '{id}' ever registered.");
        }

        try
        {
            return await grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(known.SiloId, known.NodeId)).SetOnlineAsync(online)
                ? Results.Ok(new { id = known.NodeId, online })
                : Problems.NotFound($"Node '{id}' is no longer hosted by silo '{known.SiloId}'.");
        }
        catch (OrleansException ex)
        {
            // Its silo is not an active member (dead, or restarted under another name): nothing there to switch.
            return Problems.Unavailable($"Node '{id}' cannot be reached: {ex.Message}");
        }
    }
}
