using Microsoft.Extensions.DependencyInjection;
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
internal sealed partial class NodeHostGrain(
    JobExecutorHost executors, EdgeNodes edges, LocalNodes nodes, NodeAnnouncement announcement, NodeLeaver leaver, Scheduling.JobScheduler scheduler, IServiceProvider services, ILogger<NodeHostGrain> logger)
    : Grain, INodeHostGrain
{
    /// <summary>
    /// The node's fitness for a task, computed here from what only this silo knows exactly: the node's free slots and
    /// memory (local reservations), its reputation, its price, and whether it holds the package already (no retrieval).
    /// Fitness = 0.4·reputation + 0.3·free share of slots + 0.15·package cached + 0.15·price term (1/(1+price)). A busy
    /// node still answers (lower): its task waits for a slot like a job, rather than a burst of tasks being refused.
    /// </summary>
    public Task<Grains.Interfaces.Services.TaskFitness> TaskFitnessAsync(Grains.Interfaces.Services.TaskFitnessRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = this.GetPrimaryKeyString();
        var nodeId = key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..];
        var candidate = nodes.Find(nodeId) is null ? null : scheduler.Snapshot().FirstOrDefault(c => c.NodeId == nodeId);
        string? decline = candidate switch
        {
            null => "not hosted on this silo",
            { Alive: false } => "not taking work (stopped, leaving or unhealthy)",
            _ when request.MaxPricePerMillionFuel is { } max && candidate.PricePerMillionFuel > max => $"asks {candidate.PricePerMillionFuel} per million fuel, above the task's {max}",
            _ => null,
        };
        if (decline is not null)
        {
            return Task.FromResult(new Grains.Interfaces.Services.TaskFitness(nodeId, null, decline));
        }

        var cached = services.GetService<Services.ServicePackageCache>()?.Has(request.PackageSha256) == true;
        // Slots count only while the run's memory fits next to the runs admitted now.
        var free = candidate!.FreeMemoryBytes >= request.MemoryBytes ? candidate.FreeSlots : 0;
        var fitness = (0.4 * candidate.Reputation)
            + (0.3 * free / candidate.Concurrency)
            + (cached ? 0.15 : 0)
            + (0.15 / (1 + (double)candidate.PricePerMillionFuel));
        return Task.FromResult(new Grains.Interfaces.Services.TaskFitness(nodeId, Math.Round(fitness, 6), $"{free} free slot(s){(free == 0 ? " (the task waits for one)" : "")}, reputation {candidate.Reputation:0.###}{(cached ? ", package cached" : "")}"));
    }

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
