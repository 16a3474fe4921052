using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <inheritdoc cref="INodeHostGrain"/>
[NodeHostPlacement]
[Reentrant]
internal sealed partial class NodeHostGrain(JobExecutorHost executors, EdgeNodes edges, LocalNodes nodes, NodeAnnouncement announcement, NodeLeaver leaver, ILogger<NodeHostGrain> logger) : Grain, INodeHostGrain
{
    public async Task<Grains.Interfaces.Models.NodeLeave?> LeaveAsync()
    {
        var key = this.GetPrimaryKeyString();
        return nodes.Find(key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..]) is { } node
            ? await leaver.LeaveAsync(node, CancellationToken.None)
            : null;
    }

    public Task<bool> SetOnlineAsync(bool online)
    {
        var key = this.GetPrimaryKeyString();
        if (nodes.Find(key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..]) is not { } node)
        {
            return Task.FromResult(false);
        }

        nodes.SetOnline(node, online);
        return Task.FromResult(true);
    }

    public Task<bool> ApplyResourcesAsync(NodeResources resources)
    {
        var key = this.GetPrimaryKeyString();
        if (nodes.Find(key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..]) is not { } node)
        {
            return Task.FromResult(false);
        }

        announcement.Apply(node, resources);
        return Task.FromResult(true);
    }

    public Task AssignAsync(JobDispatch dispatch)
    {
        ArgumentNullException.ThrowIfNull(dispatch);
        // An edge node connected to this silo gets it over its libp2p stream.
        if (!executors.TryDispatch(dispatch) && !edges.TryDispatch(dispatch))
        {
            // The node moved (its silo restarted under another name): the assignment times out and goes elsewhere.
            LogNotHostedHere(dispatch.NodeId, dispatch.JobId);
        }

        return Task.CompletedTask;
    }

    public Task CancelAsync(string jobId)
    {
        executors.Cancel(jobId);
        edges.Cancel(jobId);
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = JobsEventId.NotHostedHere, Level = LogLevel.Warning, Message = "An assignment of job {JobId} for node {NodeId} reached a silo that does not host the node; it will time out and be reassigned")]
    private partial void LogNotHostedHere(string nodeId, string jobId);
}

/// <summary>Places a grain keyed <c>{siloName}/…</c> on the active silo of that name (see <see cref="INodeHostGrain"/>).</summary>
[GenerateSerializer, Immutable, Alias("xmbl.NodeHostPlacement")]
public sealed class NodeHostPlacement : PlacementStrategy
{
    /// <summary>The one instance.</summary>
    public static NodeHostPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class for <see cref="NodeHostPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NodeHostPlacementAttribute() : PlacementAttribute(NodeHostPlacement.Instance);

/// <summary>Finds the active silo named by the grain key's first segment; refuses when it is not in the cluster.</summary>
internal sealed class NodeHostPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = target.GrainIdentity.Key.ToString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var siloName = slash > 0 ? key[..slash] : key;
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && string.Equals(member.Name, siloName, StringComparison.Ordinal) && compatible.Contains(member.SiloAddress))
            {
                return Task.FromResult(member.SiloAddress);
            }
        }

        throw new OrleansException($"Silo '{siloName}' is not an active member of the cluster; its nodes cannot take work now.");
    }
}
