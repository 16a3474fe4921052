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
        var node = new NodeInfo(
            registration.NodeId,
            registration.SiloId,
            registration.Address,
            registration.Operator,
            registration.Resources,
            registration.Prices,
            RegisteredAt: previous?.RegisteredAt ?? registration.At,
            LastHeartbeat: registration.At,
            RunningJobs: 0,
            UsedStorageBytes: previous?.UsedStorageBytes ?? 0,
            Retired: false)
        {
            Edge = registration.Edge,
        };
        State.Node = node;
        return Task.FromResult(node);
    }

    /// <inheritdoc/>
    public Task HeartbeatAsync(NodeHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        var node = State.Node ?? throw new InvalidOperationException($"Node '{this.GetPrimaryKeyString()}' sent a heartbeat before registering.");

        // Heartbeats can arrive out of order from retries; time never goes backwards.
        if (heartbeat.At < node.LastHeartbeat)
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
    public Task<NodeInfo?> GetAsync() => Task.FromResult(State.Node);
}
