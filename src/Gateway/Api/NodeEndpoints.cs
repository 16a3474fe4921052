using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Options;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Operator controls for nodes: <c>POST /api/nodes/{id}/stop</c> and <c>/start</c>. A silo switches its own nodes; a
/// standalone gateway hosts none and reaches the node's silo through the node's host grain, placed on that silo.
/// </summary>
internal static class NodeEndpoints
{
    public static void MapNodeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/nodes/{id}/stop", (string id, HttpContext context, NodeControl control) => SwitchAsync(id, context, control, online: false)).WithName("StopNode")
            .WithSummary("Operator only. Stops a node of this silo (through a standalone gateway: any node) as a crash would: no heartbeats, shards offline. Once the cluster sees it dead (after the death timeout) the scheduler gives it no new jobs.");
        app.MapPost("/api/nodes/{id}/start", (string id, HttpContext context, NodeControl control) => SwitchAsync(id, context, control, online: true)).WithName("StartNode")
            .WithSummary("Operator only. Restarts a stopped node of this silo (through a standalone gateway: any node).");
        app.MapMethods("/api/nodes/{id}", [HttpMethods.Patch], SetAsync).WithName("SetNode")
            .WithSummary("Operator only. Changes a running node's resources and prices: {\"cores\", \"memory\", \"concurrency\", \"pricePerMillionFuel\", \"pricePerGbMonth\"}, any of them. /api/cluster and the scheduler use them at once; they outlive restarts.");

        // Graceful leave (xmbl node leave).
        app.MapGet("/api/nodes/{id}", GetNodeAsync).WithName("GetNode")
            .WithSummary("A node's record and status (alive, leaving, left, retired, dead), with its leave's progress once one was asked for.");
        app.MapPost("/api/nodes/{id}/leave", LeaveAsync).WithName("LeaveNode")
            .WithSummary("Operator only. Starts the node's graceful leave: no new jobs or shards, its runs finish, its shards are handed to other nodes (copied before any manifest switches), then it is marked left; a silo whose every node left exits with code 0. 202 with the node; follow GET /api/nodes/{id}.");
    }

    private static async Task<IResult> GetNodeAsync(string id, NodeControl control, CancellationToken cancellationToken)
    {
        try
        {
            return Results.Ok(NodeDetails.Of(await control.GetAsync(id, cancellationToken)));
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task<IResult> LeaveAsync(string id, HttpContext context, NodeControl control)
    {
        try
        {
            var status = await control.LeaveAsync(Accounts.CallerOf(context), id, context.RequestAborted);
            return Results.Accepted($"/api/nodes/{Uri.EscapeDataString(id)}", NodeDetails.Of(status));
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    /// <summary>The largest body of <c>PATCH /api/nodes/{id}</c>: a few short fields.</summary>
    public const int MaxSettingsBodyBytes = 1024;

    private static readonly JsonDocumentOptions SettingsDocument = new() { MaxDepth = 2, AllowDuplicateProperties = false };

    private static async Task<IResult> SetAsync(string id, HttpContext context, NodeControl control, CancellationToken cancellationToken)
    {
        var caller = Accounts.CallerOf(context);
        try
        {
            // Refused before the body is read.
            control.RequireOperator(caller, "change nodes");
            var (settings, problem) = await ReadSettingsAsync(context, cancellationToken);
            if (problem is not null)
            {
                return problem;
            }

            var (node, applied) = await control.UpdateSettingsAsync(caller, id, settings!, cancellationToken);
            return Results.Ok(new NodeSettingsView(node.NodeId, node.Resources.Cores, node.Resources.MemoryBytes, node.Resources.Concurrency, node.Prices.PerMillionFuel, node.Prices.PerGbMonth, applied));
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    /// <summary>Reads the body into settings; <see cref="NodeControl.CheckSettings"/> checks the values (a value of the wrong type arrives out of range).</summary>
    /// <exception cref="RequestRefusedException">A value is out of range, or there is nothing to change.</exception>
    internal static async Task<(NodeSettings? Settings, IResult? Problem)> ReadSettingsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(context, MaxSettingsBodyBytes, "the node settings' fixed limit", cancellationToken);
        if (body.Problem is { } tooLarge)
        {
            return (null, tooLarge);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Bytes, SettingsDocument);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest("The body is not valid JSON: " + ex.Message));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, Problems.BadRequest("Send a JSON object, e.g. {\"cores\": 4, \"memory\": \"8GiB\", \"pricePerMillionFuel\": 0.02}."));
            }

            foreach (var property in root.EnumerateObject())
            {
                if (!NodeControl.SettingsFields.Contains(property.Name, StringComparer.Ordinal))
                {
                    var name = property.Name.Length <= 64 ? property.Name : property.Name[..64] + "…";
                    return (null, Problems.BadRequest($"Unknown field '{name}'; the fields are {string.Join(", ", NodeControl.SettingsFields)}."));
                }
            }

            int? cores = root.TryGetProperty("cores", out var c) ? (c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var v) ? v : 0) : null;
            int? concurrency = root.TryGetProperty("concurrency", out var j) ? (j.ValueKind == JsonValueKind.Number && j.TryGetInt32(out var w) ? w : 0) : null;
            long? memory = null;
            if (root.TryGetProperty("memory", out var m))
            {
                long bytes = 0;
                var ok = m.ValueKind switch
                {
                    JsonValueKind.Number => m.TryGetInt64(out bytes),
                    JsonValueKind.String => ByteSize.TryParse(m.GetString(), out bytes),
                    _ => false,
                };
                memory = ok ? bytes : 0;
            }

            return (NodeControl.CheckSettings(cores, memory, concurrency, Price(root, "pricePerMillionFuel"), Price(root, "pricePerGbMonth")), null);
        }
    }

    private static decimal? Price(JsonElement root, string field) =>
        !root.TryGetProperty(field, out var element) ? null
        : element.ValueKind == JsonValueKind.Number && element.TryGetDecimal(out var value) ? value
        : -1;

    private static async Task<IResult> SwitchAsync(string id, HttpContext context, NodeControl control, bool online)
    {
        try
        {
            var (node, now) = await control.SwitchAsync(Accounts.CallerOf(context), id, online, context.RequestAborted);
            return Results.Ok(new { id = node, online = now });
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }
}

/// <summary>A node's resources and prices after <c>PATCH /api/nodes/{id}</c>.</summary>
/// <param name="Id">The node.</param>
/// <param name="Cores">Cores offered.</param>
/// <param name="MemoryBytes">Memory offered.</param>
/// <param name="Concurrency">Jobs run at once.</param>
/// <param name="PricePerMillionFuel">Price per million fuel units.</param>
/// <param name="PricePerGbMonth">Price per GB-month stored.</param>
/// <param name="Applied">Whether the node's silo put them in effect now (false: its silo is down; it takes them when it starts).</param>
internal sealed record NodeSettingsView(string Id, int Cores, long MemoryBytes, int Concurrency, decimal PricePerMillionFuel, decimal PricePerGbMonth, bool Applied);

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
