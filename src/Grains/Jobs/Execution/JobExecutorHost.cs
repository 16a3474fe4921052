using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Hosts an executor for each of this silo's nodes and tells the node registry their load. Assignments arrive by an
/// in-process call (<see cref="JobDispatcher"/>), by database notification, and, as the fallback that also recovers
/// work after a restart, by scanning recent unfinished jobs for open assignments of local nodes.
/// </summary>
internal sealed partial class JobExecutorHost : BackgroundService, INodeLoadReporter
{
    private const int ScanPage = 500;

    private readonly Dictionary<string, NodeExecutor> _executors;
    private readonly IGrainStateQuery _query;
    private readonly TimeProvider _time;
    private readonly ComputeOptions _options;
    private readonly bool _pollContinuously;
    private readonly ILogger<JobExecutorHost> _logger;
    private string? _cursor;
    private volatile bool _listening;
    private TaskCompletionSource _scanRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JobExecutorHost(
        LocalNodes nodes,
        NodeAnnouncement announcement,
        IGrainFactory grains,
        IGrainStateQuery query,
        IJobRunner runner,
        TimeProvider time,
        IOptions<ComputeOptions> options,
        ComputeMode mode,
        ILogger<JobExecutorHost> logger)
    {
        _query = query;
        _time = time;
        _options = options.Value;
        _pollContinuously = !mode.Embedded;
        _logger = logger;
        var lying = _options.LyingNodes.ToHashSet();
        _executors = nodes.All.ToDictionary(
            n => n.Id,
            n => new NodeExecutor(n, announcement.Resources.Concurrency, lying.Contains(n.Index), grains, runner, logger),
            StringComparer.Ordinal);
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

    /// <summary>
    /// Set by the cluster notifier: while its LISTEN connection is up no assignment notification is lost, so the
    /// fallback scan (which reads every recent job) runs only every <see cref="ComputeOptions.PollIntervalWhileListening"/>.
    /// </summary>
    public bool Listening
    {
        get => _listening;
        set => _listening = value;
    }

    /// <summary>Scans at once, e.g. after the notifier reconnected (notifications sent meanwhile were lost).</summary>
    public void RequestScan() => Interlocked.Exchange(ref _scanRequested, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

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
        return new NodeLoad(_executors.TryGetValue(node.Id, out var e) ? e.Known : 0, 0);
    }

    /// <summary>Scans unfinished jobs from the cursor and queues open assignments of local nodes; returns how many were queued.</summary>
    public async Task<int> ScanAsync(DateTimeOffset since, CancellationToken ct)
    {
        var floor = JobIds.TimePrefix(since);
        var after = _cursor is null || string.CompareOrdinal(_cursor, floor) > 0 ? floor : _cursor;
        string? oldestOpen = null;
        string? last = null;
        var queued = 0;
        while (true)
        {
            var page = await _query.ListAsync<JobGrainState>(nameof(IJobGrain), null, after, ScanPage, ct);
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
                        if (executor.Enqueue(new JobDispatch(entry.Key, a.Id, a.NodeId, a.Role, null)))
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
            // Recovery: work assigned to these nodes before a restart.
            var recovered = await ScanAsync(_time.GetUtcNow() - _options.PendingTimeout - _options.MaxWallTime, stoppingToken);
            if (recovered > 0)
            {
                LogRecovered(recovered);
            }

            while (_pollContinuously && !stoppingToken.IsCancellationRequested)
            {
                var requested = Volatile.Read(ref _scanRequested).Task;
                var interval = _listening ? _options.PollIntervalWhileListening : _options.PollInterval;
                await Task.WhenAny(requested, Task.Delay(interval, _time, stoppingToken));
                stoppingToken.ThrowIfCancellationRequested();
                try
                {
                    await ScanAsync(_time.GetUtcNow() - _options.PendingTimeout - _options.MaxWallTime, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPollFailed(ex);
                }
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

    /// <summary>A key just before <paramref name="key"/> in ordinal order, so a scan "after" it includes it.</summary>
    private static string Before(string key) => key[..^1] + (char)(key[^1] - 1);

    [LoggerMessage(EventId = JobsEventId.ExecutorStarted, Level = LogLevel.Information, Message = "Executor of node {NodeId} serving {Concurrency} job(s) at once (lying: {Lying})")]
    private partial void LogExecutorStarted(string nodeId, int concurrency, bool lying);

    [LoggerMessage(EventId = JobsEventId.Recovered, Level = LogLevel.Information, Message = "Recovered {Count} open assignment(s) of this silo's nodes")]
    private partial void LogRecovered(int count);

    [LoggerMessage(EventId = JobsEventId.PollFailed, Level = LogLevel.Warning, Message = "Scanning for assignments failed; retrying at the next poll")]
    private partial void LogPollFailed(Exception exception);
}

/// <summary>Whether the silo runs embedded (SQLite, one process) or in a cluster (PostgreSQL).</summary>
/// <param name="Embedded">True for embedded mode.</param>
internal sealed record ComputeMode(bool Embedded);
