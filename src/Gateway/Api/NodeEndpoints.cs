using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
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

        // Graceful leave (xmbl node leave).
        app.MapGet("/api/nodes/{id}", GetNodeAsync).WithName("GetNode")
            .WithSummary("A node's record and status (alive, leaving, left, retired, dead), with its leave's progress once one was asked for.");
        app.MapPost("/api/nodes/{id}/leave", LeaveAsync).WithName("LeaveNode")
            .WithSummary("Operator only. Starts the node's graceful leave: no new jobs or shards, its runs finish, its shards are handed to other nodes (copied before any manifest switches), then it is marked left; a silo whose every node left exits with code 0. 202 with the node; follow GET /api/nodes/{id}.");
    }

    private static async Task<IResult> GetNodeAsync(string id, NodeDirectory directory, CancellationToken cancellationToken)
    {
        var listed = await directory.ListAsync(cancellationToken);
        return listed.FirstOrDefault(n => string.Equals(n.Node.NodeId, id, StringComparison.Ordinal)) is { } status
            ? Results.Ok(NodeDetails.Of(status))
            : Problems.NotFound($"No node '{id}' ever registered.");
    }

    private static async Task<IResult> LeaveAsync(string id, HttpContext context, [FromServices] LocalNodes? local, [FromServices] NodeLeaver? leaver, NodeDirectory directory, IGrainFactory grains)
    {
        if (Accounts.OperatorOnly(context, "make nodes leave") is { } refused)
        {
            return refused;
        }

        if (await directory.GetAsync(id, context.RequestAborted) is not { } known)
        {
            return Problems.NotFound($"No node '{id}' ever registered.");
        }

        try
        {
            // This silo's own node directly; any other through its host grain, placed on the silo that hosts it.
            var leave = local?.Find(id) is { } node && leaver is not null
                ? await leaver.LeaveAsync(node, context.RequestAborted)
                : await grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(known.SiloId, known.NodeId)).LeaveAsync();
            if (leave is null)
            {
                return Problems.NotFound($"Node '{id}' is no longer hosted by silo '{known.SiloId}'.");
            }
        }
        catch (InvalidOperationException ex)
        {
            return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }
        catch (OrleansException ex)
        {
            return Problems.Unavailable($"Node '{id}' cannot be reached: {ex.Message}");
        }

        var status = (await directory.ListAsync(context.RequestAborted)).First(n => string.Equals(n.Node.NodeId, id, StringComparison.Ordinal));
        return Results.Accepted($"/api/nodes/{Uri.EscapeDataString(id)}", NodeDetails.Of(status));
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

/// <summary>A node as <c>GET /api/nodes/{id}</c> shows it.</summary>
internal sealed record NodeDetails(
    string Id,
    string SiloId,
    string Address,
    string Operator,
    string Status,
    int RunningJobs,
    long UsedStorageBytes,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeat,
    LeaveView? Leave)
{
    public static NodeDetails Of(NodeStatus status)
    {
        var n = status.Node;
        return new NodeDetails(n.NodeId, n.SiloId, n.Address, n.Operator, StatusOf(status), n.RunningJobs, n.UsedStorageBytes, n.RegisteredAt, n.LastHeartbeat, n.Leave is { } l
            ? new LeaveView(l.Phase.ToString().ToLowerInvariant(), l.StartedAt, l.FinishedAt, l.ShardsAtStart, l.ShardsMoved, l.ShardsLeft, l.RunningJobs, l.Reason)
            : null);
    }

    /// <summary>alive, leaving, left, retired (stopped cleanly) or dead (no heartbeat within the death timeout).</summary>
    public static string StatusOf(NodeStatus status) => status.Node.Leave?.Phase switch
    {
        NodeLeavePhase.Left => "left",
        NodeLeavePhase.Leaving when status.Alive => "leaving",
        _ => status.Alive ? "alive" : status.Node.Retired ? "retired" : "dead",
    };
}

/// <summary>A node's leave: phase (leaving, left, stopped), when, shard counts, runs still going, and why it stopped.</summary>
internal sealed record LeaveView(string Phase, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int ShardsAtStart, int ShardsMoved, int ShardsLeft, int RunningJobs, string? Reason);
