using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>The transport to one connected edge node (the gateway's libp2p bridge implements it).</summary>
public interface IEdgeNodeLink
{
    /// <summary>Hands an assignment to the node; must not block (queue it).</summary>
    void Assign(JobDispatch dispatch);

    /// <summary>Tells the node to stop its runs of a cancelled job.</summary>
    void Cancel(string jobId);
}

/// <summary>
/// Edge nodes connected to this silo: public peers that registered through the gateway's libp2p bridge. They are
/// registered, scheduled, validated, reputed and paid as silo nodes are, through the same node and job grains; only
/// the transport differs: their assignments reach them here instead of a local executor (see <see cref="JobDispatcher"/>
/// and <see cref="NodeHostGrain"/>), and they are hosted by this silo (their registry entry names it).
/// </summary>
/// <remarks>
/// An edge node's result is never taken on its word: <see cref="ReportAsync"/> passes it to the job grain only when a
/// silo node of the same job reported the same output, exit code and outcome, and then with that node's metered fuel
/// (an edge node may run an engine that counts no fuel, like Node's WASI; see docs/p2p.md, "Edge results"). So edge
/// nodes can agree with silo nodes and be outvoted by them, but never decide a result among themselves.
/// </remarks>
public sealed partial class EdgeNodes
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private readonly ConcurrentDictionary<string, IEdgeNodeLink> _links = new(StringComparer.Ordinal);
    private readonly IGrainFactory _grains;
    private readonly NodeDirectory _directory;
    private readonly NodeAnnouncement _announcement;
    private readonly ILocalSiloDetails _silo;
    private readonly TimeProvider _time;
    private readonly ILogger<EdgeNodes> _logger;

    /// <summary>Creates the registry.</summary>
    public EdgeNodes(IGrainFactory grains, NodeDirectory directory, NodeAnnouncement announcement, ILocalSiloDetails silo, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, ILogger<EdgeNodes> logger)
    {
        _grains = grains;
        _directory = directory;
        _announcement = announcement;
        _silo = silo;
        _time = time;
        _logger = logger;
    }

    /// <summary>Registers (or re-registers) an edge node hosted by this silo and attaches its link.</summary>
    /// <param name="nodeId">The node's did:key (its peer's key).</param>
    /// <param name="address">Where it is connected from (its multiaddr).</param>
    /// <param name="resources">What it offers; the engine is set to this silo's, whose fuel its results carry.</param>
    /// <param name="prices">What it charges.</param>
    /// <param name="link">The transport.</param>
    /// <returns>The node's record.</returns>
    public async Task<NodeInfo> AttachAsync(string nodeId, string address, NodeResources resources, NodePrices prices, IEdgeNodeLink link)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var engine = _announcement.Resources;
        var registration = new NodeRegistration(
            nodeId,
            _silo.Name,
            address,
            nodeId,
            resources with { Engine = engine.Engine, EngineVersion = engine.EngineVersion, EngineFeatures = engine.EngineFeatures },
            prices,
            _time.GetUtcNow(),
            Edge: true);
        _links[nodeId] = link;
        var info = await _grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(registration);
        LogAttached(nodeId, address);
        return info;
    }

    /// <summary>Records an edge node's heartbeat, with the shard bytes it holds (placement counts its free space from them).</summary>
    public Task HeartbeatAsync(string nodeId, int runningJobs, long usedStorageBytes = 0) =>
        _grains.GetGrain<INodeGrain>(nodeId).HeartbeatAsync(new NodeHeartbeat(_time.GetUtcNow(), runningJobs, usedStorageBytes));

    /// <summary>Detaches a node whose connection ended: it is retired at once, so it gets no more work; its open
    /// assignments time out and go to other nodes, as a dead node's do.</summary>
    public async Task DetachAsync(string nodeId, IEdgeNodeLink link, string reason)
    {
        if (!((ICollection<KeyValuePair<string, IEdgeNodeLink>>)_links).Remove(KeyValuePair.Create(nodeId, link)))
        {
            return;
        }

        LogDetached(nodeId, reason);
        try
        {
            await _grains.GetGrain<INodeGrain>(nodeId).RetireAsync(_time.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Heartbeats stopped anyway: the node is seen dead after the death timeout.
            LogRetireFailed(nodeId, ex);
        }
    }

    /// <summary>Hands an assignment to a connected edge node; false when the node is not connected here.</summary>
    internal bool TryDispatch(JobDispatch dispatch)
    {
        if (!_links.TryGetValue(dispatch.NodeId, out var link))
        {
            return false;
        }

        link.Assign(dispatch);
        return true;
    }

    /// <summary>Whether the node is an edge node connected here.</summary>
    internal bool IsAttached(string nodeId) => _links.ContainsKey(nodeId);

    /// <summary>Stops the runs of a cancelled job on the edge nodes connected here.</summary>
    internal void Cancel(string jobId)
    {
        foreach (var link in _links.Values)
        {
            link.Cancel(jobId);
        }
    }

    /// <summary>What an assignment needs (the spec from the job grain when the dispatch carries none); null when it is no longer open.</summary>
    public async Task<JobWork?> GetWorkAsync(JobDispatch dispatch)
    {
        ArgumentNullException.ThrowIfNull(dispatch);
        return dispatch.Spec is { } spec
            ? new JobWork(dispatch.JobId, dispatch.AssignmentId, dispatch.NodeId, dispatch.Role, spec)
            : await _grains.GetGrain<IJobGrain>(dispatch.JobId).GetWorkAsync(dispatch.AssignmentId, dispatch.NodeId);
    }

    /// <summary>
    /// Reports an edge node's run once a silo node of the job reported the same output, exit code and outcome, with
    /// that node's fuel. Waits for the job's other reports until the assignment's deadline; when none agrees, nothing is
    /// reported and the assignment times out (the node's reputation then falls once the result is decided).
    /// </summary>
    /// <returns>True when the report was accepted by the job.</returns>
    public async Task<bool> ReportAsync(JobWork work, byte[] output, int exitCode, RunOutcome outcome, string? detail, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(output);
        var grain = _grains.GetGrain<IJobGrain>(work.JobId);
        while (!cancellationToken.IsCancellationRequested)
        {
            var job = await grain.GetAsync();
            var mine = job?.Assignments.FirstOrDefault(a => a.Id == work.AssignmentId);
            if (job is null || job.IsFinal || mine is null || mine.Status != AssignmentStatus.Assigned || !string.Equals(mine.NodeId, work.NodeId, StringComparison.Ordinal))
            {
                LogNotReported(work.JobId, work.AssignmentId, work.NodeId, "the assignment is no longer open");
                return false;
            }

            var othersOpen = false;
            foreach (var other in job.Assignments)
            {
                if (other.Id == work.AssignmentId || string.Equals(other.NodeId, work.NodeId, StringComparison.Ordinal))
                {
                    continue;
                }

                if (other.Status == AssignmentStatus.Assigned)
                {
                    othersOpen |= !await IsEdgeAsync(other.NodeId, cancellationToken);
                    continue;
                }

                if (other is { Status: AssignmentStatus.Reported, Fuel: { } fuel, ResultHash: { } hash }
                    && string.Equals(ResultHash.Compute(output, exitCode, fuel, outcome), hash, StringComparison.Ordinal)
                    && !await IsEdgeAsync(other.NodeId, cancellationToken))
                {
                    var report = new ExecutionReport(work.AssignmentId, work.NodeId, hash, output, exitCode, fuel, outcome, detail, duration);
                    var accepted = await grain.ReportAsync(report);
                    LogReported(work.JobId, work.AssignmentId, work.NodeId, other.NodeId, fuel, accepted);
                    return accepted;
                }
            }

            if (!othersOpen || _time.GetUtcNow() >= mine.Deadline)
            {
                LogNotReported(work.JobId, work.AssignmentId, work.NodeId, othersOpen ? "no silo node reported the same result before its deadline" : "no silo node of the job reported the same result");
                return false;
            }

            // Bounded long poll: the job's next transition, or the next look.
            await grain.WaitForChangeAsync(job.Transitions.Count, Poll).WaitAsync(cancellationToken);
        }

        return false;
    }

    private async ValueTask<bool> IsEdgeAsync(string nodeId, CancellationToken ct) =>
        _links.ContainsKey(nodeId) || (await _directory.GetAsync(nodeId, ct))?.Edge != false;

    [LoggerMessage(EventId = JobsEventId.EdgeAttached, Level = LogLevel.Information, Message = "Edge node {NodeId} attached from {Address}")]
    private partial void LogAttached(string nodeId, string address);

    [LoggerMessage(EventId = JobsEventId.EdgeDetached, Level = LogLevel.Information, Message = "Edge node {NodeId} detached ({Reason}); retired, its open assignments will time out and be reassigned")]
    private partial void LogDetached(string nodeId, string reason);

    [LoggerMessage(EventId = JobsEventId.EdgeRetireFailed, Level = LogLevel.Warning, Message = "Retiring edge node {NodeId} failed; it is seen dead after the death timeout")]
    private partial void LogRetireFailed(string nodeId, Exception exception);

    [LoggerMessage(EventId = JobsEventId.EdgeReported, Level = LogLevel.Information, Message = "Edge node {NodeId}'s result of assignment {AssignmentId} of job {JobId} matches silo node {SiloNodeId}'s; reported with its fuel {Fuel} (accepted: {Accepted})")]
    private partial void LogReported(string jobId, int assignmentId, string nodeId, string siloNodeId, long fuel, bool accepted);

    [LoggerMessage(EventId = JobsEventId.EdgeNotReported, Level = LogLevel.Warning, Message = "Edge node {NodeId}'s result of assignment {AssignmentId} of job {JobId} is not reported: {Reason}")]
    private partial void LogNotReported(string jobId, int assignmentId, string nodeId, string reason);
}
