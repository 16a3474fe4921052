using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Persistence.Sql;
using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Scheduling;

/// <summary>
/// Places jobs on nodes by fitness (<see cref="NodeFitness"/>) from a snapshot of the node registry and reputations,
/// counts the slots it hands out so no node gets more than its advertised concurrency, and retries pending jobs as
/// soon as a slot frees.
/// </summary>
/// <remarks>
/// Placement runs inside job grain calls, so it is synchronous and reads only memory; the snapshot is refreshed in
/// the background. A node hosted by this process is counted exactly (every reservation is released here when its
/// executor reports); a node of another silo counts its last heartbeat's running jobs plus the reservations made
/// since that heartbeat. Reservations lapse at the assignment's deadline, so a lost release cannot leak a slot.
/// </remarks>
internal sealed partial class JobScheduler : BackgroundService, IJobPlacement
{
    /// <summary>Weight of a new latency sample in the moving average.</summary>
    private const double LatencyAlpha = 0.2;

    private readonly NodeDirectory _directory;
    private readonly IGrainStateQuery _query;
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ComputeOptions _options;
    private readonly HashSet<string> _localNodes;
    private readonly ILogger<JobScheduler> _logger;
    private readonly JobExecutorHost _executors;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<Reservation>> _reservations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _latencyMs = new(StringComparer.Ordinal);
    // The score at its last change and when that was; recovery is applied on read (NodeReputationGrain.Recover).
    private readonly ConcurrentDictionary<string, (double Score, DateTimeOffset At)> _reputation = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Known, DateTimeOffset At)> _liveLoad = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _pending = new();
    private readonly HashSet<string> _pendingSet = new(StringComparer.Ordinal);
    // Nodes this scheduler has placed a run on; the others are tried first (NodeFitness.Pick).
    private readonly HashSet<string> _tried = new(StringComparer.Ordinal);
    private TaskCompletionSource _slotFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IReadOnlyList<NodeStatus> _nodes = [];

    public JobScheduler(
        NodeDirectory directory,
        IGrainStateQuery query,
        IGrainFactory grains,
        [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
        IOptions<ComputeOptions> options,
        LocalNodes localNodes,
        JobExecutorHost executors,
        ILogger<JobScheduler> logger)
    {
        _executors = executors;
        _directory = directory;
        _query = query;
        _grains = grains;
        _time = time;
        _options = options.Value;
        _localNodes = localNodes.All.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        _logger = logger;
    }

    /// <summary>Jobs waiting for a slot, oldest first.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    public PlacementChoice? Place(PlacementRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var candidates = Candidates(now);
            var memory = RunMemory.Of(request.Spec.Limits, _options.RunMemoryOverheadBytes);
            var excluded = request.ExcludedNodes;
            NodeCandidate? pick = null;
            if (request.Spec.Task is { } task)
            {
                // A task runs only on silo nodes (an edge node has no service cache); its executor goes to the node whose
                // fitness answer won the task request while that node can take it.
                excluded = [.. excluded, .. _nodes.Where(n => n.Node.Edge).Select(n => n.Node.NodeId)];
                if (request.Role == JobRole.Executor && task.ExecutorNode is { } chosen && !excluded.Contains(chosen))
                {
                    pick = NodeFitness.Pick([.. candidates.Where(c => c.NodeId == chosen)], request.JobId, request.Spec.MaxPricePerMillionFuel, _options.MinReputation, excluded, request.AvoidOperators, memory, EngineOf(candidates, request.SameEngineAs), request.Spec.Features, UsesStoredObjects(request.Spec));
                }
            }

            pick ??= NodeFitness.Pick(candidates, request.JobId, request.Spec.MaxPricePerMillionFuel, _options.MinReputation, excluded, request.AvoidOperators, memory, EngineOf(candidates, request.SameEngineAs), request.Spec.Features, UsesStoredObjects(request.Spec));
            if (pick is null)
            {
                return null;
            }

            if (!_reservations.TryGetValue(pick.NodeId, out var list))
            {
                _reservations[pick.NodeId] = list = [];
            }

            list.Add(new Reservation(request.JobId, request.AssignmentId, now, request.Deadline, memory));
            _tried.Add(pick.NodeId);
            return new PlacementChoice(pick.NodeId, pick.Operator, pick.PricePerMillionFuel);
        }
    }

    /// <summary>
    /// The most memory any registered node announces (alive or not: a dead node may come back), or null while no node
    /// is known; a run larger than this can never be placed.
    /// </summary>
    public long? LargestNodeMemory()
    {
        long? largest = null;
        foreach (var node in _nodes)
        {
            largest = Math.Max(largest ?? 0, node.Node.Resources.MemoryBytes);
        }

        return largest;
    }

    public decimal? HighestPrice()
    {
        decimal? highest = null;
        foreach (var node in _nodes)
        {
            if (!node.Node.Retired)
            {
                highest = Math.Max(highest ?? 0m, node.Node.Prices.PerMillionFuel);
            }
        }

        return highest;
    }

    public string ExplainNoNode(PlacementRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_lock)
        {
            var candidates = Candidates(_time.GetUtcNow());
            return NodeFitness.Explain(
                candidates, request.Spec.MaxPricePerMillionFuel, _options.MinReputation, request.ExcludedNodes, RunMemory.Of(request.Spec.Limits, _options.RunMemoryOverheadBytes), EngineOf(candidates, request.SameEngineAs), request.Spec.Features, UsesStoredObjects(request.Spec));
        }
    }

    public void Release(string nodeId, string jobId, int assignmentId, TimeSpan? runTime)
    {
        var released = false;
        lock (_lock)
        {
            if (_reservations.TryGetValue(nodeId, out var list))
            {
                released = list.RemoveAll(r => r.AssignmentId == assignmentId && string.Equals(r.JobId, jobId, StringComparison.Ordinal)) > 0;
            }
        }

        if (runTime is { } t)
        {
            var ms = t.TotalMilliseconds;
            _latencyMs.AddOrUpdate(nodeId, ms, (_, old) => old + (LatencyAlpha * (ms - old)));
        }

        if (released)
        {
            SignalSlotFreed();
        }
    }

    /// <summary>
    /// Takes a node of another silo's announced load (its queued and running assignments, sent when one finishes), so
    /// slots it frees are used at once rather than after its next heartbeat.
    /// </summary>
    public void ObserveLoad(string nodeId, int known)
    {
        if (_localNodes.Contains(nodeId))
        {
            return;
        }

        lock (_lock)
        {
            _liveLoad[nodeId] = (Math.Max(0, known), _time.GetUtcNow());
        }

        SignalSlotFreed();
    }

    public void EnqueuePending(string jobId)
    {
        lock (_lock)
        {
            if (_pendingSet.Add(jobId))
            {
                _pending.AddLast(jobId);
            }
        }
    }

    /// <summary>Takes a reputation change into account at once, before the next refresh.</summary>
    public void ObserveReputation(string nodeId, double score) => _reputation[nodeId] = (score, _time.GetUtcNow());

    /// <summary>The reputation the scheduler uses for a node now.</summary>
    public double ReputationOf(string nodeId) => ReputationAt(nodeId, _time.GetUtcNow());

    private double ReputationAt(string nodeId, DateTimeOffset now) =>
        _reputation.TryGetValue(nodeId, out var r) ? NodeReputationGrain.Recover(r.Score, r.At, now, _options.ReputationHalfLife) : NodeReputation.InitialScore;

    /// <summary>The registered nodes as last refreshed (with their silos), for the task request's eligibility.</summary>
    public IReadOnlyList<NodeStatus> Nodes => _nodes;

    /// <summary>The candidates now, for diagnostics and tests.</summary>
    public IReadOnlyList<NodeCandidate> Snapshot()
    {
        lock (_lock)
        {
            return Candidates(_time.GetUtcNow());
        }
    }

    /// <summary>Re-reads the node registry and reputations.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        var nodes = await _directory.ListAsync(ct);
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<NodeReputationGrainState>(GrainStates.Reputation, null, after, 1000, ct);
            foreach (var entry in page)
            {
                _reputation[entry.Key] = (entry.State.Score, entry.State.UpdatedAt);
            }

            if (page.Count < 1000)
            {
                break;
            }

            after = page[^1].Key;
        }

        _nodes = nodes;
        SignalSlotFreed();
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Load the registry before the gateway takes jobs, so the first submissions find nodes.
        await RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refresh = RefreshLoopAsync(stoppingToken);
        var pump = PumpLoopAsync(stoppingToken);
        await Task.WhenAll(refresh, pump);
    }

    private async Task RefreshLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.NodeRefreshInterval, _time, ct);
                await RefreshAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRefreshFailed(ex);
            }
        }
    }

    /// <summary>Places pending jobs, oldest first, whenever a slot frees (and at every refresh).</summary>
    private async Task PumpLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Task wait;
            lock (_lock)
            {
                wait = _slotFreed.Task;
            }

            try
            {
                await wait.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            int round;
            lock (_lock)
            {
                _slotFreed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                round = _pending.Count;
            }

            // Each job is tried at most once per round; a job that still finds no node re-queues itself at the end.
            for (var i = 0; i < round && !ct.IsCancellationRequested; i++)
            {
                string jobId;
                lock (_lock)
                {
                    if (_pending.First is null || TotalFreeSlots(_time.GetUtcNow()) == 0)
                    {
                        break;
                    }

                    jobId = _pending.First.Value;
                    _pending.RemoveFirst();
                    _pendingSet.Remove(jobId);
                }

                try
                {
                    await _grains.GetGrain<IJobGrain>(jobId).TryScheduleAsync();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPendingRetryFailed(jobId, ex);
                }
            }
        }
    }

    private void SignalSlotFreed()
    {
        lock (_lock)
        {
            _slotFreed.TrySetResult();
        }
    }

    private int TotalFreeSlots(DateTimeOffset now)
    {
        var free = 0;
        foreach (var c in Candidates(now))
        {
            if (c.Alive && c.Reputation >= _options.MinReputation)
            {
                free += c.FreeSlots;
            }
        }

        return free;
    }

    /// <summary>Builds the candidates from the snapshot and the reservations; call under the lock.</summary>
    private List<NodeCandidate> Candidates(DateTimeOffset now)
    {
        var nodes = _nodes;
        var result = new List<NodeCandidate>(nodes.Count);
        foreach (var status in nodes)
        {
            var node = status.Node;
            var local = _localNodes.Contains(node.NodeId);
            var running = 0;
            long memory = 0;
            // A leaving node finishes its runs but is given no new ones.
            var alive = status.Alive && node.AcceptsWork;
            if (local)
            {
                // A local node is counted exactly; its stuck runs hold memory that no reservation covers any more.
                var (unhealthy, stuckMemory) = _executors.Condition(node.NodeId);
                alive &= unhealthy is null;
                memory = stuckMemory;
            }
            else
            {
                alive &= node.Unhealthy is null;
                memory = node.ReservedMemoryBytes;
            }

            if (_reservations.TryGetValue(node.NodeId, out var list))
            {
                list.RemoveAll(r => r.Deadline <= now);
                if (local)
                {
                    running = list.Count;
                    foreach (var r in list)
                    {
                        memory += r.Memory;
                    }
                }
                else
                {
                    // Reservations older than the node's last report are already in its count, if they still run.
                    var (reported, at) = RemoteLoad(node);
                    running = reported;
                    foreach (var r in list)
                    {
                        if (r.At > at)
                        {
                            running++;
                        }

                        if (r.At > node.LastHeartbeat)
                        {
                            memory += r.Memory;
                        }
                    }
                }
            }
            else if (!local)
            {
                running = RemoteLoad(node).Known;
            }

            result.Add(new NodeCandidate(
                node.NodeId,
                node.Operator,
                alive,
                Math.Max(1, node.Resources.Concurrency),
                running,
                node.Prices.PerMillionFuel,
                ReputationAt(node.NodeId, now),
                _latencyMs.TryGetValue(node.NodeId, out var ms) ? ms : null,
                node.Resources.MemoryBytes,
                memory,
                EngineKey(node.Resources),
                node.Resources.EngineFeatures,
                !_tried.Contains(node.NodeId),
                node.Edge));
        }

        return result;
    }

    /// <summary>
    /// Whether the job's runs read or write stored objects: they reach them through a silo's storage proxy, which an
    /// edge node has not (the bridge would not send it the assignment, and its deadline would pass for nothing).
    /// </summary>
    internal static bool UsesStoredObjects(JobSpec spec) => spec.InputObjects.Count > 0 || spec.OutputObject is not null;

    /// <summary>A node's engine and version as one key (<c>wasmtime 50.0.1</c>), or null when it announced none.</summary>
    internal static string? EngineKey(NodeResources resources) => resources.Engine is null ? null : resources.Engine + " " + resources.EngineVersion;

    /// <summary>The engine key of <paramref name="nodeId"/> (a node of the job), or null when unknown or not asked for.</summary>
    private static string? EngineOf(List<NodeCandidate> candidates, string? nodeId) =>
        nodeId is null ? null : candidates.Find(c => string.Equals(c.NodeId, nodeId, StringComparison.Ordinal))?.Engine;

    /// <summary>
    /// A remote node's load: the newer of its heartbeat and its last announcement. An assignment dispatched just before
    /// an announcement and not yet received by the node is missed by both counts, so a node can briefly get one
    /// assignment more than its concurrency; its executor queues it.
    /// </summary>
    private (int Known, DateTimeOffset At) RemoteLoad(NodeInfo node) =>
        _liveLoad.TryGetValue(node.NodeId, out var live) && live.At > node.LastHeartbeat ? live : (node.RunningJobs, node.LastHeartbeat);

    [LoggerMessage(EventId = JobsEventId.NodeRefreshFailed, Level = LogLevel.Warning, Message = "Reading nodes and reputations for scheduling failed; the last snapshot stays in use")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(EventId = JobsEventId.PendingRetryFailed, Level = LogLevel.Warning, Message = "Retrying placement of pending job {JobId} failed")]
    private partial void LogPendingRetryFailed(string jobId, Exception exception);

    private sealed record Reservation(string JobId, int AssignmentId, DateTimeOffset At, DateTimeOffset Deadline, long Memory);
}
