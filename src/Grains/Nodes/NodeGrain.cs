using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Models;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>The node registry entry of one node: its announcement, heartbeats and reputation.</summary>
public sealed class NodeGrain([PersistentState(GrainStates.Node, GrainStates.Storage)] IPersistentState<NodeGrainState> state)
    : DurableGrain<NodeGrainState>(state), INodeGrain
{
    /// <inheritdoc/>
    public Task<NodeInfo> RegisterAsync(NodeRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (!string.Equals(registration.NodeId, this.GetPrimaryKeyString(), StringComparison.Ordinal))
        {
            throw new ArgumentException($"Registration for '{registration.NodeId}' sent to node grain '{this.GetPrimaryKeyString()}'.", nameof(registration));
        }

        var previous = State.Node;
        State.AnnouncedResources = registration.Resources;
        State.AnnouncedPrices = registration.Prices;
        var node = new NodeInfo(
            registration.NodeId,
            registration.SiloId,
            registration.Address,
            registration.Operator,
            State.Settings?.Apply(registration.Resources) ?? registration.Resources,
            State.Settings?.Apply(registration.Prices) ?? registration.Prices,
            RegisteredAt: previous?.RegisteredAt ?? registration.At,
            LastHeartbeat: registration.At,
            RunningJobs: 0,
            UsedStorageBytes: previous?.UsedStorageBytes ?? 0,
            Retired: false,
            // A leave under way resumes after a restart; a node that left and starts again rejoins.
            Leave: previous?.Leave is { Phase: NodeLeavePhase.Leaving } leave ? leave : null)
        {
            Edge = registration.Edge,
            Relayed = registration.Relayed,
        };
        State.Node = node;
        return Task.FromResult(node);
    }

    /// <inheritdoc/>
    public Task HeartbeatAsync(NodeHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        var node = State.Node ?? throw new InvalidOperationException($"Node '{this.GetPrimaryKeyString()}' sent a heartbeat before registering.");

        // Heartbeats can arrive out of order from retries; time never goes backwards. A node that left stays retired
        // for the moments its silo still runs.
        if (heartbeat.At < node.LastHeartbeat || node.Leave is { Phase: NodeLeavePhase.Left })
        {
            return Task.CompletedTask;
        }

        State.Node = node with
        {
            LastHeartbeat = heartbeat.At,
            RunningJobs = heartbeat.RunningJobs,
            UsedStorageBytes = heartbeat.UsedStorageBytes,
            ReservedMemoryBytes = heartbeat.ReservedMemoryBytes,
            Unhealthy = heartbeat.Unhealthy,
            Retired = false,
        };
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task RetireAsync(DateTimeOffset at)
    {
        if (State.Node is { } node)
        {
            State.Node = node with { Retired = true, LastHeartbeat = at > node.LastHeartbeat ? at : node.LastHeartbeat };
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<NodeInfo> UpdateSettingsAsync(NodeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var node = State.Node ?? throw new InvalidOperationException($"Node '{this.GetPrimaryKeyString()}' never registered.");
        var merged = State.Settings?.With(settings) ?? new NodeSettings(null, null, null, null, null).With(settings);
        State.Settings = merged;
        // A record from before announcements were kept: what it shows now is what the node announced.
        var announcedResources = State.AnnouncedResources ??= node.Resources;
        var announcedPrices = State.AnnouncedPrices ??= node.Prices;
        State.Node = node with { Resources = merged.Apply(announcedResources), Prices = merged.Apply(announcedPrices) };
        return Task.FromResult(State.Node);
    }

    /// <inheritdoc/>
    public Task<NodeLeave> BeginLeaveAsync(DateTimeOffset at, int shards)
    {
        var node = State.Node ?? throw new InvalidOperationException($"Node '{this.GetPrimaryKeyString()}' never registered.");
        if (node.Leave is { Phase: NodeLeavePhase.Leaving or NodeLeavePhase.Left } current)
        {
            return Task.FromResult(current);
        }

        var leave = new NodeLeave(NodeLeavePhase.Leaving, at, shards, ShardsMoved: 0, ShardsLeft: shards, node.RunningJobs);
        State.Node = node with { Leave = leave };
        return Task.FromResult(leave);
    }

    /// <inheritdoc/>
    public Task UpdateLeaveAsync(NodeLeave leave)
    {
        ArgumentNullException.ThrowIfNull(leave);
        var node = State.Node ?? throw new InvalidOperationException($"Node '{this.GetPrimaryKeyString()}' never registered.");

        // Only the leave under way changes; a late report never reopens one that ended.
        if (node.Leave is not { Phase: NodeLeavePhase.Leaving } current || current.StartedAt != leave.StartedAt)
        {
            return Task.CompletedTask;
        }

        State.Node = leave.Phase == NodeLeavePhase.Left
            ? node with { Leave = leave, Retired = true, RunningJobs = 0, UsedStorageBytes = 0 }
            : node with { Leave = leave };
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<NodeInfo?> GetAsync() => Task.FromResult(State.Node);
}
