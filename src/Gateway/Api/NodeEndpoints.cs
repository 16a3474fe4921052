using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
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
        app.MapPost("/api/nodes/{id}/stop", (string id, HttpContext context, [FromServices] LocalNodes? local, NodeDirectory directory, IGrainFactory grains) =>
                SwitchAsync(id, context, local, directory, grains, online: false)).WithName("StopNode")
            .WithSummary("Operator only. Stops a node of this silo (through a standalone gateway: any node) as a crash would: no heartbeats, shards offline. Once the cluster sees it dead (after the death timeout) the scheduler gives it no new jobs.");
        app.MapPost("/api/nodes/{id}/start", (string id, HttpContext context, [FromServices] LocalNodes? local, NodeDirectory directory, IGrainFactory grains) =>
                SwitchAsync(id, context, local, directory, grains, online: true)).WithName("StartNode")
            .WithSummary("Operator only. Restarts a stopped node of this silo (through a standalone gateway: any node).");
        app.MapMethods("/api/nodes/{id}", [HttpMethods.Patch], (string id, HttpContext context, [FromServices] LocalNodes? local, [FromServices] NodeAnnouncement? announcement, NodeDirectory directory, IGrainFactory grains, CancellationToken cancellationToken) =>
                SetAsync(id, context, local, announcement, directory, grains, cancellationToken)).WithName("SetNode")
            .WithSummary("Operator only. Changes a running node's resources and prices: {\"cores\", \"memory\", \"concurrency\", \"pricePerMillionFuel\", \"pricePerGbMonth\"}, any of them. /api/cluster and the scheduler use them at once; they outlive restarts.");

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

    /// <summary>The largest body of <c>PATCH /api/nodes/{id}</c>: a few short fields.</summary>
    public const int MaxSettingsBodyBytes = 1024;

    /// <summary>Most cores or concurrent jobs a node may announce.</summary>
    public const int MaxCores = 1024;

    /// <summary>Least memory a node may announce (a WebAssembly run needs more than this anyway).</summary>
    public const long MinMemoryBytes = 1L << 20;

    /// <summary>Most memory a node may announce (1 PiB).</summary>
    public const long MaxMemoryBytes = 1L << 50;

    /// <summary>Highest price, in xmbl.c; prices have at most 6 decimals (micro-xmbl.c).</summary>
    public const decimal MaxPrice = 1_000_000m;

    private static readonly string[] SettingsFields = ["cores", "memory", "concurrency", "pricePerMillionFuel", "pricePerGbMonth"];

    private static readonly JsonDocumentOptions SettingsDocument = new() { MaxDepth = 2, AllowDuplicateProperties = false };

    private static async Task<IResult> SetAsync(string id, HttpContext context, LocalNodes? local, NodeAnnouncement? announcement, NodeDirectory directory, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (Accounts.OperatorOnly(context, "change nodes") is { } refused)
        {
            return refused;
        }

        var (settings, problem) = await ReadSettingsAsync(context, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        // A silo changes its own nodes (as it stops and starts them); a standalone gateway any node.
        var hosted = local?.Find(id);
        if (local is not null && hosted is null)
        {
            return Problems.NotFound($"Node '{id}' is not hosted by this silo; send the request to the silo that hosts it.");
        }

        if (hosted is null && await directory.GetAsync(id, cancellationToken) is null)
        {
            return Problems.NotFound($"No node '{id}' ever registered.");
        }

        NodeInfo node;
        try
        {
            node = await grains.GetGrain<INodeGrain>(id).UpdateSettingsAsync(settings!);
        }
        catch (InvalidOperationException)
        {
            return Problems.NotFound($"No node '{id}' ever registered.");
        }

        // The registry has the change (the scheduler reads it); the node's executor follows on its silo.
        bool applied;
        if (hosted is not null && announcement is not null)
        {
            announcement.Apply(hosted, node.Resources);
            applied = true;
        }
        else
        {
            try
            {
                applied = await grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(node.SiloId, node.NodeId)).ApplyResourcesAsync(node.Resources);
            }
            catch (OrleansException)
            {
                // Its silo is not an active member now; the node takes the settings from the registry when it starts again.
                applied = false;
            }
        }

        return Results.Ok(new NodeSettingsView(node.NodeId, node.Resources.Cores, node.Resources.MemoryBytes, node.Resources.Concurrency, node.Prices.PerMillionFuel, node.Prices.PerGbMonth, applied));
    }

    /// <summary>Reads and checks the body; every refusal names the field.</summary>
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
                if (Array.IndexOf(SettingsFields, property.Name) < 0)
                {
                    var name = property.Name.Length <= 64 ? property.Name : property.Name[..64] + "…";
                    return (null, Problems.BadRequest($"Unknown field '{name}'; the fields are {string.Join(", ", SettingsFields)}."));
                }
            }

            int? cores = null, concurrency = null;
            long? memory = null;
            decimal? fuelPrice = null, storagePrice = null;
            if (root.TryGetProperty("cores", out var c))
            {
                if (!(c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var v) && v is >= 1 and <= MaxCores))
                {
                    return (null, Problems.BadRequest($"cores must be a whole number from 1 to {MaxCores}."));
                }

                cores = v;
            }

            if (root.TryGetProperty("concurrency", out var j))
            {
                if (!(j.ValueKind == JsonValueKind.Number && j.TryGetInt32(out var v) && v is >= 1 and <= MaxCores))
                {
                    return (null, Problems.BadRequest($"concurrency must be a whole number from 1 to {MaxCores}."));
                }

                concurrency = v;
            }

            if (root.TryGetProperty("memory", out var m))
            {
                long bytes = 0;
                var ok = m.ValueKind switch
                {
                    JsonValueKind.Number => m.TryGetInt64(out bytes),
                    JsonValueKind.String => ByteSize.TryParse(m.GetString(), out bytes),
                    _ => false,
                };
                if (!ok || bytes is < MinMemoryBytes or > MaxMemoryBytes)
                {
                    return (null, Problems.BadRequest($"memory must be a size from 1MiB to 1PiB: bytes as a number, or text such as \"512MiB\" or \"8GB\"."));
                }

                memory = bytes;
            }

            if (Price(root, "pricePerMillionFuel", out fuelPrice) is { } badFuel)
            {
                return (null, badFuel);
            }

            if (Price(root, "pricePerGbMonth", out storagePrice) is { } badStorage)
            {
                return (null, badStorage);
            }

            var settings = new NodeSettings(cores, memory, concurrency, fuelPrice, storagePrice);
            return settings == new NodeSettings(null, null, null, null, null)
                ? (null, Problems.BadRequest($"Nothing to change: give at least one of {string.Join(", ", SettingsFields)}."))
                : (settings, null);
        }
    }

    private static IResult? Price(JsonElement root, string field, out decimal? price)
    {
        price = null;
        if (!root.TryGetProperty(field, out var element))
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetDecimal(out var value) && value >= 0 && value <= MaxPrice && value.Scale <= 6)
        {
            price = value;
            return null;
        }

        return Problems.BadRequest($"{field} must be a number of xmbl.c from 0 to {MaxPrice.ToString(CultureInfo.InvariantCulture)} with at most 6 decimals.");
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
