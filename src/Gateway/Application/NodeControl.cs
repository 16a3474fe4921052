using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Gateway.Application;

/// <summary>
/// The operator's controls, shared by the REST endpoints and the gRPC <c>Nodes</c>/<c>Storage</c> services: stop,
/// start, settings, graceful leave and repair. Only the silo's operator acts. A silo switches and changes its own
/// nodes; a standalone gateway hosts none and reaches a node's silo through the node's host grain, placed there.
/// </summary>
internal sealed class NodeControl(IServiceProvider services, NodeDirectory directory, IGrainFactory grains, RequestSigning signing)
{
    /// <summary>Most cores or concurrent jobs a node may announce.</summary>
    public const int MaxCores = 1024;

    /// <summary>Least memory a node may announce (a WebAssembly run needs more than this anyway).</summary>
    public const long MinMemoryBytes = 1L << 20;

    /// <summary>Most memory a node may announce (1 PiB).</summary>
    public const long MaxMemoryBytes = 1L << 50;

    /// <summary>Highest price, in xmbl.c; prices have at most 6 decimals (micro-xmbl.c).</summary>
    public const decimal MaxPrice = 1_000_000m;

    /// <summary>The settings' fields, as the REST body names them.</summary>
    public static readonly IReadOnlyList<string> SettingsFields = ["cores", "memory", "concurrency", "pricePerMillionFuel", "pricePerGbMonth"];

    private LocalNodes? Local => services.GetService<LocalNodes>();

    /// <summary>Refuses <paramref name="caller"/> unless it is this silo's operator.</summary>
    /// <exception cref="RequestRefusedException">Forbidden, naming the operator and the action.</exception>
    public void RequireOperator(Caller caller, string action)
    {
        if (!caller.IsOperator)
        {
            throw RequestRefusedException.Forbidden($"Only this silo's operator ({signing.Operator}) may {action}; the request was made by {caller.Account}.");
        }
    }

    /// <summary>The node's record and status.</summary>
    /// <exception cref="RequestRefusedException">No such node ever registered.</exception>
    public async Task<NodeStatus> GetAsync(string id, CancellationToken cancellationToken) =>
        (await directory.ListAsync(cancellationToken)).FirstOrDefault(n => string.Equals(n.Node.NodeId, id, StringComparison.Ordinal))
            ?? throw RequestRefusedException.NotFound($"No node '{id}' ever registered.");

    /// <summary>Stops a node as a crash would (no heartbeats, shards offline), or starts it again.</summary>
    /// <returns>The node's id and whether it is online now.</returns>
    /// <exception cref="RequestRefusedException">Not the operator, no such node here, or its silo cannot be reached.</exception>
    public async Task<(string Id, bool Online)> SwitchAsync(Caller caller, string id, bool online, CancellationToken cancellationToken)
    {
        RequireOperator(caller, online ? "start nodes" : "stop nodes");
        if (Local is { } local)
        {
            var node = local.Find(id) ?? throw NotHostedHere(id);
            local.SetOnline(node, online);
            return (node.Id, online);
        }

        var known = await directory.GetAsync(id, cancellationToken) ?? throw NeverRegistered(id);
        try
        {
            return await grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(known.SiloId, known.NodeId)).SetOnlineAsync(online)
                ? (known.NodeId, online)
                : throw RequestRefusedException.NotFound($"Node '{id}' is no longer hosted by silo '{known.SiloId}'.");
        }
        catch (OrleansException ex)
        {
            // Its silo is not an active member (dead, or restarted under another name): nothing there to switch.
            throw Unreachable(id, ex);
        }
    }

    /// <summary>
    /// Checks a settings change field by field. A transport passes what it read; a value it could not read as its
    /// type arrives out of range (0, or -1 for prices), and is refused with the same words.
    /// </summary>
    /// <exception cref="RequestRefusedException">A value out of range (naming the field), or nothing to change.</exception>
    public static NodeSettings CheckSettings(int? cores, long? memory, int? concurrency, decimal? pricePerMillionFuel, decimal? pricePerGbMonth)
    {
        if (cores is { } c && c is < 1 or > MaxCores)
        {
            throw RequestRefusedException.Invalid("cores", $"cores must be a whole number from 1 to {MaxCores}.");
        }

        if (concurrency is { } j && j is < 1 or > MaxCores)
        {
            throw RequestRefusedException.Invalid("concurrency", $"concurrency must be a whole number from 1 to {MaxCores}.");
        }

        if (memory is { } m && m is < MinMemoryBytes or > MaxMemoryBytes)
        {
            throw RequestRefusedException.Invalid("memoryBytes", "memory must be a size from 1MiB to 1PiB: bytes as a number, or text such as \"512MiB\" or \"8GB\".");
        }

        CheckPrice(pricePerMillionFuel, "pricePerMillionFuel");
        CheckPrice(pricePerGbMonth, "pricePerGbMonth");
        var settings = new NodeSettings(cores, memory, concurrency, pricePerMillionFuel, pricePerGbMonth);
        return settings == new NodeSettings(null, null, null, null, null)
            ? throw RequestRefusedException.Invalid("", $"Nothing to change: give at least one of {string.Join(", ", SettingsFields)}.")
            : settings;
    }

    /// <summary>Changes a running node's resources and prices; the registry has them at once, the node's silo applies them.</summary>
    /// <returns>The node as registered after the change, and whether its silo put them in effect now.</returns>
    /// <exception cref="RequestRefusedException">Not the operator, or no such node (here).</exception>
    public async Task<(NodeInfo Node, bool Applied)> UpdateSettingsAsync(Caller caller, string id, NodeSettings settings, CancellationToken cancellationToken)
    {
        RequireOperator(caller, "change nodes");

        // A silo changes its own nodes (as it stops and starts them); a standalone gateway any node.
        var local = Local;
        var hosted = local?.Find(id);
        if (local is not null && hosted is null)
        {
            throw NotHostedHere(id);
        }

        if (hosted is null && await directory.GetAsync(id, cancellationToken) is null)
        {
            throw NeverRegistered(id);
        }

        NodeInfo node;
        try
        {
            node = await grains.GetGrain<INodeGrain>(id).UpdateSettingsAsync(settings);
        }
        catch (InvalidOperationException)
        {
            throw NeverRegistered(id);
        }

        // The registry has the change (the scheduler reads it); the node's executor follows on its silo.
        if (hosted is not null && services.GetService<NodeAnnouncement>() is { } announcement)
        {
            announcement.Apply(hosted, node.Resources);
            return (node, true);
        }

        try
        {
            return (node, await grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(node.SiloId, node.NodeId)).ApplyResourcesAsync(node.Resources));
        }
        catch (OrleansException)
        {
            // Its silo is not an active member now; the node takes the settings from the registry when it starts again.
            return (node, false);
        }
    }

    /// <summary>Starts the node's graceful leave (no new work, runs finish, shards handed off, then left).</summary>
    /// <returns>The node's status as the leave began.</returns>
    /// <exception cref="RequestRefusedException">Not the operator, no such node, a leave that cannot start (conflict), or its silo cannot be reached.</exception>
    public async Task<NodeStatus> LeaveAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        RequireOperator(caller, "make nodes leave");
        var known = await directory.GetAsync(id, cancellationToken) ?? throw NeverRegistered(id);
        try
        {
            // This silo's own node directly; any other through its host grain, placed on the silo that hosts it.
            var leave = Local?.Find(id) is { } node && services.GetService<NodeLeaver>() is { } leaver
                ? await leaver.LeaveAsync(node, cancellationToken)
                : await grains.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(known.SiloId, known.NodeId)).LeaveAsync();
            if (leave is null)
            {
                throw RequestRefusedException.NotFound($"Node '{id}' is no longer hosted by silo '{known.SiloId}'.");
            }
        }
        catch (InvalidOperationException ex)
        {
            throw new RequestRefusedException(RefusalKind.Conflict, ex.Message);
        }
        catch (OrleansException ex)
        {
            throw Unreachable(id, ex);
        }

        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Runs a storage repair pass now (scrub, rebuild, delete old orphans).</summary>
    /// <exception cref="RequestRefusedException">Not the operator.</exception>
    public Task<RepairPassResult> RepairAsync(Caller caller, CancellationToken cancellationToken)
    {
        RequireOperator(caller, "run repair");
        return services.GetRequiredService<StorageRepairService>().RunPassAsync(cancellationToken);
    }

    private static void CheckPrice(decimal? price, string field)
    {
        if (price is { } p && (p < 0 || p > MaxPrice || p.Scale > 6))
        {
            throw RequestRefusedException.Invalid(field, $"{field} must be a number of xmbl.c from 0 to {MaxPrice.ToString(CultureInfo.InvariantCulture)} with at most 6 decimals.");
        }
    }

    private static RequestRefusedException NotHostedHere(string id) =>
        RequestRefusedException.NotFound($"Node '{id}' is not hosted by this silo; send the request to the silo that hosts it.");

    private static RequestRefusedException NeverRegistered(string id) => RequestRefusedException.NotFound($"No node '{id}' ever registered.");

    private static RequestRefusedException Unreachable(string id, OrleansException ex) =>
        new(RefusalKind.Unavailable, $"Node '{id}' cannot be reached: {ex.Message}");
}
