using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Persistence.Sql;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Hosts an executor for each of this silo's nodes and tells the node registry their load. Assignments arrive from
/// <see cref="JobDispatcher"/> (in process, or as a call to <see cref="NodeHostGrain"/> from another silo); at start, a
/// scan of recent unfinished jobs recovers the open assignments of local nodes.
/// </summary>
/// <remarks>
/// After a start that did not follow a clean stop (a crash, a kill, a hang ended by the operator), every open assignment
/// of a local node made before the start is counted against its job before it runs again
/// (<see cref="IJobGrain.RecoverAsync"/>), so a job that takes its node down fails as poisonous after
/// <see cref="ComputeOptions.PoisonAfterRestarts"/> restarts instead of coming back forever. A clean stop leaves a marker
/// file, written only when every run had returned, and the next start does not count.
/// </remarks>
internal sealed partial class JobExecutorHost : BackgroundService, INodeLoadReporter, ISiloHealthReporter
{
    private const int ScanPage = 500;

    /// <summary>The marker a clean stop leaves in the data directory.</summary>
    public const string CleanStopMarker = "executor.clean-stop";

    private readonly Dictionary<string, NodeExecutor> _executors;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly ComputeOptions _options;
    private readonly ILogger<JobExecutorHost> _logger;
    private readonly IGrainFactory _grains;
    private readonly string? _markerPath;
    private readonly DateTimeOffset _startedAt;
    private readonly string _startId = Guid.NewGuid().ToString("N");
    private string? _cursor;

    public JobExecutorHost(
        LocalNodes nodes,
        NodeAnnouncement announcement,
        IGrainFactory grains,
        IGrainStateQuery query,
        IJobRunner runner,
        [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
        IOptions<ComputeOptions> options,
        ComputeMode mode,
        ILogger<JobExecutorHost> logger)
    {
        _query = query;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _grains = grains;
        _markerPath = mode.DataDirectory is { } data ? Path.Combine(data, CleanStopMarker) : null;
        _startedAt = time.GetUtcNow();
        var lying = _options.LyingNodes.ToHashSet();
        _executors = nodes.All.ToDictionary(
            n => n.Id,
            n => new NodeExecutor(n, announcement.ResourcesOf(n), lying.Contains(n.Index), grains, runner, _options, time, logger),
            StringComparer.Ordinal);
        announcement.ResourcesChanged += (node, resources) =>
        {
            if (_executors.TryGetValue(node.Id, out var executor))
            {
                executor.Resize(resources);
                LogResized(node.Id, resources.Concurrency, resources.MemoryBytes);
            }
        };
        // Resources applied between creating the executors and subscribing are not missed (Resize is idempotent).
        foreach (var node in nodes.All)
        {
            _executors[node.Id].Resize(announcement.ResourcesOf(node));
        }

        foreach (var node in nodes.All)
        {
            _executors[node.Id].SetOnline(nodes.IsOnline(node));
        }

        nodes.OnlineChanged += (node, online) =>
        {
            if (_executors.TryGetValue(node.Id, out var executor))
            {
                executor.SetOnline(online);
            }
        };
    }

    public IReadOnlyCollection<NodeExecutor> Executors => _executors.Values;

    /// <summary>Hands an assignment to a local node's executor; false when the node is not hosted here.</summary>
    public bool TryDispatch(JobDispatch dispatch)
    {
        if (!_executors.TryGetValue(dispatch.NodeId, out var executor))
        {
            return false;
        }

        executor.Enqueue(dispatch);
        return true;
    }

    public bool IsLocal(string nodeId) => _executors.ContainsKey(nodeId);

    /// <summary>Stops the local runs of a cancelled job.</summary>
    public void Cancel(string jobId)
    {
        foreach (var executor in _executors.Values)
        {
            executor.Cancel(jobId);
        }
    }

    public NodeLoad GetLoad(LocalNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return _executors.TryGetValue(node.Id, out var e) ? new NodeLoad(e.Known, 0, e.ReservedMemory, e.Unhealthy) : default;
    }

    /// <summary>For the scheduler: whether a local node takes jobs, and the memory its stuck runs hold beyond the reservations.</summary>
    public (string? Unhealthy, long StuckMemory) Condition(string nodeId) =>
        _executors.TryGetValue(nodeId, out var e) ? (e.Unhealthy, e.StuckMemory) : (null, 0);

    public void AddProblems(ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        foreach (var executor in _executors.Values)
        {
            if (executor.Unhealthy is { } reason)
            {
                problems.Add(reason);
            }
        }
    }

    /// <summary>Scans unfinished jobs from the cursor and queues open assignments of local nodes; returns how many were queued.</summary>
    /// <param name="since">How far back to look.</param>
    /// <param name="ct">Stops the scan.</param>
    /// <param name="recovery">The start-up scan after an unclean stop: assignments made before this start are counted
    /// against their job before they run again.</param>
    public async Task<int> ScanAsync(DateTimeOffset since, CancellationToken ct, bool recovery = false)
    {
        var floor = JobIds.TimePrefix(since);
        var after = _cursor is null || string.CompareOrdinal(_cursor, floor) > 0 ? floor : _cursor;
        string? oldestOpen = null;
        string? last = null;
        var queued = 0;
        while (true)
        {
            var page = await _query.ListAsync<JobGrainState>(GrainStates.Job, null, after, ScanPage, ct);
            foreach (var entry in page)
            {
                var state = entry.State;
                last = entry.Key;
                if (!state.Exists || JobRecord.IsFinalStatus(state.Status))
                {
                    continue;
                }

                oldestOpen ??= entry.Key;
                foreach (var a in state.Assignments)
                {
                    if (a.Status == AssignmentStatus.Assigned && _executors.TryGetValue(a.NodeId, out var executor) && !executor.IsKnown(entry.Key, a.Id))
                    {
                        var dispatch = new JobDispatch(entry.Key, a.Id, a.NodeId, a.Role, null);
                        if (recovery && a.AssignedAt < _startedAt)
                        {
                            // Counted (and written) before it runs again: a job that kills the silo each time stops.
                            var work = await RecoverAsync(entry.Key, a.Id, a.NodeId);
                            if (work is null)
                            {
                                continue;
                            }

                            dispatch = dispatch with { Spec = work.Spec };
                        }

                        if (executor.Enqueue(dispatch))
                        {
                            queued++;
                        }
                    }
                }
            }

            if (page.Count < ScanPage)
            {
                break;
            }

            after = page[^1].Key;
        }

        // Next time start just before the oldest unfinished job (or after the last one seen when all are finished).
        var next = oldestOpen is null ? last : Before(oldestOpen);
        if (next is not null)
        {
            _cursor = next;
        }

        return queued;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var executor in _executors.Values)
        {
            LogExecutorStarted(executor.Node.Id, executor.Concurrency, executor.Lying);
        }

        var workers = Task.WhenAll(_executors.Values.Select(e => e.RunAsync(stoppingToken)));
        try
        {
            // Recovery: work assigned to these nodes before a restart; a restart after a crash counts against the jobs.
            var afterCrash = !ConsumeCleanStopMarker();
            var recovered = await ScanAsync(_time.GetUtcNow() - _options.PendingTimeout - _options.MaxWallTime, stoppingToken, recovery: afterCrash);
            if (recovered > 0)
            {
                LogRecovered(recovered);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogPollFailed(ex);
        }

        await workers;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);

        // The runs were told to stop; a run that does not return in time may be what hangs the node, so the next start
        // then counts it as a crash.
        var waited = _time.GetTimestamp();
        while (_executors.Values.Any(e => e.InFlight > 0) && _time.GetElapsedTime(waited) < _options.StuckRunGrace && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, CancellationToken.None);
        }

        if (_markerPath is not null && _executors.Values.All(e => e.InFlight == 0))
        {
            try
            {
                await File.WriteAllTextAsync(_markerPath, _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogRecoveryFailed(_markerPath, ex);
            }
        }
    }

    /// <summary>Deletes the clean-stop marker; true when it was there (the last stop was clean).</summary>
    private bool ConsumeCleanStopMarker()
    {
        if (_markerPath is null || !File.Exists(_markerPath))
        {
            return false;
        }

        try
        {
            File.Delete(_markerPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left in place, it would make the next crash look like a clean stop.
            LogRecoveryFailed(_markerPath, ex);
            return false;
        }

        return true;
    }

    private async Task<JobWork?> RecoverAsync(string jobId, int assignmentId, string nodeId)
    {
        var work = await _grains.GetGrain<IJobGrain>(jobId).RecoverAsync(assignmentId, nodeId, _startId);
        if (work is null)
        {
            LogNotRecovered(jobId, assignmentId, nodeId);
        }

        return work;
    }

    /// <summary>A key just before <paramref name="key"/> in ordinal order, so a scan "after" it includes it.</summary>
    private static string Before(string key) => key[..^1] + (char)(key[^1] - 1);

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Node {NodeId} now runs {Concurrency} job(s) at once within {MemoryBytes} bytes (changed by its operator)")]
    private partial void LogResized(string nodeId, int concurrency, long memoryBytes);

    [LoggerMessage(EventId = JobsEventId.ExecutorStarted, Level = LogLevel.Information, Message = "Executor of node {NodeId} serving {Concurrency} job(s) at once (lying: {Lying})")]
    private partial void LogExecutorStarted(string nodeId, int concurrency, bool lying);

    [LoggerMessage(EventId = JobsEventId.Recovered, Level = LogLevel.Information, Message = "Recovered {Count} open assignment(s) of this silo's nodes")]
    private partial void LogRecovered(int count);

    [LoggerMessage(EventId = JobsEventId.NotRecovered, Level = LogLevel.Warning, Message = "Assignment {AssignmentId} of job {JobId} on node {NodeId} was unfinished at this start and is not run again (the job ended meanwhile, or failed as poisonous)")]
    private partial void LogNotRecovered(string jobId, int assignmentId, string nodeId);

    [LoggerMessage(EventId = JobsEventId.RecoveryFailed, Level = LogLevel.Warning, Message = "The clean-stop marker {Path} could not be written or removed")]
    private partial void LogRecoveryFailed(string path, Exception exception);

    [LoggerMessage(EventId = JobsEventId.PollFailed, Level = LogLevel.Warning, Message = "Scanning for the open assignments of this silo's nodes failed")]
    private partial void LogPollFailed(Exception exception);
}

/// <summary>Where the silo keeps its files, as compute needs to know it.</summary>
/// <param name="DataDirectory">The silo's data directory (for the executors' clean-stop marker), when it has one.</param>
internal sealed record ComputeMode(string? DataDirectory = null);
