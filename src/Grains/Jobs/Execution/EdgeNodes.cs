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
/// Edge nodes connected to this process: public peers that registered through the gateway's libp2p bridge. They are
/// registered, scheduled, validated, reputed and paid as silo nodes are, through the same node and job grains; only
/// the transport differs. On a silo (the gateway inside it) their assignments reach them here instead of a local
/// executor (see <see cref="JobDispatcher"/> and <see cref="NodeHostGrain"/>), and their registry entry names the
/// silo. On a standalone gateway (<see cref="ForGateway"/>, an Orleans client) each node gets an
/// <see cref="IEdgeNodeObserver"/> held by its <see cref="IEdgeRelayGrain"/>, renewed at each heartbeat, and its entry
/// is marked relayed, so dispatchers send its work to the relay.
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
    private readonly ConcurrentDictionary<string, Attachment> _links = new(StringComparer.Ordinal);
    private readonly IGrainFactory _grains;
    private readonly NodeDirectory _directory;
    private readonly NodeAnnouncement? _announcement;
    private readonly string _hostName;
    private readonly TimeProvider _time;
    private readonly ILogger<EdgeNodes> _logger;

    /// <summary>Creates the registry of a silo: its nodes are hosted by the silo and carry its engine.</summary>
    [ActivatorUtilitiesConstructor]
    public EdgeNodes(IGrainFactory grains, NodeDirectory directory, NodeAnnouncement announcement, ILocalSiloDetails silo, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, ILogger<EdgeNodes> logger)
        : this(grains, directory, announcement, (silo ?? throw new ArgumentNullException(nameof(silo))).Name, time, logger)
    {
    }

    private EdgeNodes(IGrainFactory grains, NodeDirectory directory, NodeAnnouncement? announcement, string hostName, TimeProvider time, ILogger<EdgeNodes> logger)
    {
        _grains = grains;
        _directory = directory;
        _announcement = announcement;
        _hostName = hostName;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Creates the registry of a standalone gateway: its nodes are relayed (work reaches them through their
    /// <see cref="IEdgeRelayGrain"/>) and carry the engine most live silo nodes announce.
    /// </summary>
    /// <param name="grains">The cluster client's grain factory.</param>
    /// <param name="directory">The node directory.</param>
    /// <param name="gatewayName">What the nodes' entries name as their host (shown as their silo id).</param>
    /// <param name="time">The cluster clock.</param>
    /// <param name="logger">The logger.</param>
    public static EdgeNodes ForGateway(IGrainFactory grains, NodeDirectory directory, string gatewayName, TimeProvider time, ILogger<EdgeNodes> logger) =>
        new(grains, directory, announcement: null, gatewayName, time, logger);

    /// <summary>Whether this registry's nodes are relayed (a standalone gateway's) rather than hosted by this silo.</summary>
    public bool Relayed => _announcement is null;

    /// <summary>Registers (or re-registers) an edge node hosted here and attaches its link.</summary>
    /// <param name="nodeId">The node's did:key (its peer's key).</param>
    /// <param name="address">Where it is connected from (its multiaddr).</param>
    /// <param name="resources">What it offers; the engine is set to the silo nodes', whose fuel its results carry.</param>
    /// <param name="prices">What it charges.</param>
    /// <param name="link">The transport.</param>
    /// <param name="shardAddress">On a gateway: the base URL of its shard endpoints, where silos reach the node's
    /// shards; registered as the node's address (a silo's nodes are found at their host silo's address instead).</param>
    /// <returns>The node's record.</returns>
    /// <exception cref="InvalidOperationException">On a gateway: no live silo node announces an engine to pair it with.</exception>
    public async Task<NodeInfo> AttachAsync(string nodeId, string address, NodeResources resources, NodePrices prices, IEdgeNodeLink link, string? shardAddress = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var engine = _announcement?.Resources ?? await SiloEngineAsync();
        var registration = new NodeRegistration(
            nodeId,
            _hostName,
            shardAddress ?? address,
            nodeId,
            resources with { Engine = engine.Engine, EngineVersion = engine.EngineVersion, EngineFeatures = engine.EngineFeatures },
            prices,
            _time.GetUtcNow(),
            Edge: true,
            Relayed: Relayed);
        var attachment = new Attachment(link);
        _links[nodeId] = attachment;
        try
        {
            if (Relayed)
            {
                // The relay holds the observer before the registry names the node relayed: its first assignment finds it.
                attachment.Reference = _grains.CreateObjectReference<IEdgeNodeObserver>(attachment);
                await _grains.GetGrain<IEdgeRelayGrain>(nodeId).AttachAsync(attachment.Reference);
            }

            var info = await _grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(registration);
            LogAttached(nodeId, address);
            return info;
        }
        catch
        {
            ((ICollection<KeyValuePair<string, Attachment>>)_links).Remove(KeyValuePair.Create(nodeId, attachment));
            attachment.Release(_grains);
            throw;
        }
    }

    /// <summary>Records an edge node's heartbeat, with the shard bytes it holds (placement counts its free space from
    /// them); on a gateway, also renews the node's observer with its relay.</summary>
    public Task HeartbeatAsync(string nodeId, int runningJobs, long usedStorageBytes = 0)
    {
        var heartbeat = _grains.GetGrain<INodeGrain>(nodeId).HeartbeatAsync(new NodeHeartbeat(_time.GetUtcNow(), runningJobs, usedStorageBytes));
        return _links.TryGetValue(nodeId, out var attachment) && attachment.Reference is { } reference
            ? Task.WhenAll(heartbeat, _grains.GetGrain<IEdgeRelayGrain>(nodeId).AttachAsync(reference))
            : heartbeat;
    }

    /// <summary>Detaches a node whose connection ended: it is retired at once, so it gets no more work; its open
    /// assignments time out and go to other nodes, as a dead node's do.</summary>
    public async Task DetachAsync(string nodeId, IEdgeNodeLink link, string reason)
    {
        if (!_links.TryGetValue(nodeId, out var attachment) || !ReferenceEquals(attachment.Link, link)
            || !((ICollection<KeyValuePair<string, Attachment>>)_links).Remove(KeyValuePair.Create(nodeId, attachment)))
        {
            return;
        }

        LogDetached(nodeId, reason);
        try
        {
            if (attachment.Reference is { } reference)
            {
                await _grains.GetGrain<IEdgeRelayGrain>(nodeId).DetachAsync(reference);
            }

            await _grains.GetGrain<INodeGrain>(nodeId).RetireAsync(_time.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Heartbeats stopped anyway: the node is seen dead after the death timeout (and its observer expires).
            LogRetireFailed(nodeId, ex);
        }
        finally
        {
            attachment.Release(_grains);
        }
    }

    /// <summary>Hands an assignment to a connected edge node; false when the node is not connected here.</summary>
    internal bool TryDispatch(JobDispatch dispatch)
    {
        if (!_links.TryGetValue(dispatch.NodeId, out var attachment))
        {
            return false;
        }

        attachment.Link.Assign(dispatch);
        return true;
    }

    /// <summary>Whether the node is an edge node connected here.</summary>
    internal bool IsAttached(string nodeId) => _links.ContainsKey(nodeId);

    /// <summary>Stops the runs of a cancelled job on the edge nodes connected here.</summary>
    internal void Cancel(string jobId)
    {
        foreach (var attachment in _links.Values)
        {
            attachment.Link.Cancel(jobId);
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

    /// <summary>
    /// The engine a gateway's edge nodes are registered under: the one most live silo nodes announce (ties by name), so
    /// the scheduler pairs them with silo nodes whose metered fuel their results carry.
    /// </summary>
    private async Task<NodeResources> SiloEngineAsync()
    {
        var engine = (await _directory.ListAsync())
            .Where(s => s.Alive && !s.Node.Edge && s.Node.Resources.Engine is not null)
            .Select(s => s.Node.Resources)
            .GroupBy(r => (r.Engine, r.EngineVersion, Features: string.Join(',', r.EngineFeatures ?? [])))
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key.Engine, StringComparer.Ordinal)
            .ThenBy(g => g.Key.EngineVersion, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Features, StringComparer.Ordinal)
            .FirstOrDefault();
        return engine?.First() ?? throw new InvalidOperationException("No live silo node announces a WebAssembly engine: an edge node's results need a silo node's run to agree with.");
    }

    /// <summary>One attached node: its link, and on a gateway the observer its relay calls (the object is held here
    /// because Orleans keeps only a weak reference to it).</summary>
    private sealed class Attachment(IEdgeNodeLink link) : IEdgeNodeObserver
    {
        public IEdgeNodeLink Link { get; } = link;

        public IEdgeNodeObserver? Reference { get; set; }

        public Task AssignAsync(JobDispatch dispatch)
        {
            Link.Assign(dispatch);
            return Task.CompletedTask;
        }

        public Task CancelAsync(string jobId)
        {
            Link.Cancel(jobId);
            return Task.CompletedTask;
        }

        /// <summary>Calls to the observer fail from now on (the relay then drops it).</summary>
        public void Release(IGrainFactory grains)
        {
            if (Reference is { } reference)
            {
                grains.DeleteObjectReference<IEdgeNodeObserver>(reference);
            }
        }
    }

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
