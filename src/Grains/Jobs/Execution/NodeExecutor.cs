using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// One node's executor: a queue of assignments and as many workers as the node's advertised concurrency. Each worker
/// runs the module outside any grain call and reports the result with one call to the job grain.
/// </summary>
/// <remarks>
/// A run is admitted only when its memory (<see cref="RunMemory"/>) fits in what the node announced next to the runs
/// already admitted. A watchdog ends the assignment of a run that has not returned <see cref="ComputeOptions.StuckRunGrace"/>
/// after its wall-clock limit: it is reported as ended at the limit, with the reason, and the worker moves on. The stuck
/// run keeps its memory until it returns; with more than <see cref="ComputeOptions.MaxStuckRuns"/> of them the node is
/// unhealthy and takes no work until they return.
/// </remarks>
internal sealed partial class NodeExecutor
{
    /// <summary>How long a run past its limit gets to return once cancelled before it counts as stuck (at most the grace).</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(1);

    // Each assignment carries the trace context of the grain call that dispatched it, so that its run joins the job's trace.
    private readonly Channel<(JobDispatch Dispatch, ActivityContext Parent)> _queue = Channel.CreateUnbounded<(JobDispatch, ActivityContext)>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentDictionary<(string JobId, int AssignmentId), CancellationTokenSource?> _known = new();
    private readonly IGrainFactory _grains;
    private readonly IJobRunner _runner;
    private readonly ComputeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _memoryLock = new();
    private TaskCompletionSource? _memoryFreed;
    private long _reservedMemory;
    private long _stuckMemory;
    private int _stuck;
    private int _running;
    private int _inFlight;
    private volatile bool _offline;
    // Workers by index: as many as the concurrency, which the operator may change on the running node (Resize).
    private readonly Lock _workersLock = new();
    private readonly HashSet<int> _workers = [];
    private readonly TaskCompletionSource _workersStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationToken _stopping;
    private bool _started;
    private volatile int _concurrency;
    private long _memoryBytes;

    public NodeExecutor(LocalNode node, NodeResources resources, bool lying, IGrainFactory grains, IJobRunner runner, ComputeOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(resources);
        Node = node;
        _concurrency = Math.Max(1, resources.Concurrency);
        _memoryBytes = resources.MemoryBytes;
        Lying = lying;
        _grains = grains;
        _runner = runner;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public LocalNode Node { get; }

    public int Concurrency => _concurrency;

    /// <summary>Chaos testing: this executor alters its outputs.</summary>
    public bool Lying { get; }

    /// <summary>Assignments running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Assignments queued or running.</summary>
    public int Known => _known.Count;

    /// <summary>The memory the node announced; admitted runs stay within it.</summary>
    public long MemoryBytes => Interlocked.Read(ref _memoryBytes);

    /// <summary>
    /// Applies resources the operator changed on the running node: more workers start at once; extra ones stop after
    /// their current run; more memory admits waiting runs, less admits no new run until the admitted ones fit.
    /// </summary>
    public void Resize(NodeResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        Interlocked.Exchange(ref _memoryBytes, resources.MemoryBytes);
        lock (_workersLock)
        {
            _concurrency = Math.Max(1, resources.Concurrency);
            if (_started && !_stopping.IsCancellationRequested)
            {
                StartWorkers();
            }
        }

        // Wakes runs waiting for memory, which may fit now.
        ReleaseMemory(0);
    }

    /// <summary>Memory admitted to running and stuck runs.</summary>
    public long ReservedMemory => Interlocked.Read(ref _reservedMemory);

    /// <summary>Memory held by stuck runs (the scheduler's reservations no longer cover it).</summary>
    public long StuckMemory => Interlocked.Read(ref _stuckMemory);

    /// <summary>Runs whose guest code has not returned yet, abandoned ones included.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Runs that did not return within <see cref="ComputeOptions.StuckRunGrace"/> of their wall-clock limit and have not returned since.</summary>
    public int Stuck => Volatile.Read(ref _stuck);

    /// <summary>Why this node takes no jobs now, or null when it is healthy.</summary>
    public string? Unhealthy
    {
        get
        {
            var stuck = Stuck;
            return stuck > _options.MaxStuckRuns
                ? $"node {Node.Id} has {stuck} run(s) stuck past their wall-clock limit (more than {ComputeOptions.SectionName}:MaxStuckRuns = {_options.MaxStuckRuns}); it takes no jobs until they return, and only a restart frees their threads"
                : null;
        }
    }

    /// <summary>Called with this executor after each assignment it finished (reported or given up).</summary>
    public Action<NodeExecutor>? Finished { get; set; }

    /// <summary>Queues an assignment unless it is already queued or running here.</summary>
    public bool Enqueue(JobDispatch dispatch)
    {
        if (!_known.TryAdd((dispatch.JobId, dispatch.AssignmentId), null))
        {
            return false;
        }

        return _queue.Writer.TryWrite((dispatch, Activity.Current?.Context ?? default));
    }

    public bool IsKnown(string jobId, int assignmentId) => _known.ContainsKey((jobId, assignmentId));

    /// <summary>
    /// Stops or restarts the node's executor as a crash would: a stopped node abandons its runs and queued
    /// assignments without reporting them, so they time out and go to other nodes.
    /// </summary>
    public void SetOnline(bool online)
    {
        _offline = !online;
        if (!online)
        {
            foreach (var (_, cts) in _known)
            {
                TryCancel(cts);
            }
        }
    }

    /// <summary>Stops the runs of a job on this node (it was cancelled).</summary>
    public void Cancel(string jobId)
    {
        foreach (var (key, cts) in _known)
        {
            if (string.Equals(key.JobId, jobId, StringComparison.Ordinal))
            {
                TryCancel(cts);
            }
        }
    }

    private static void TryCancel(CancellationTokenSource? cts)
    {
        try
        {
            cts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run finished meanwhile.
        }
    }

    /// <summary>Runs the workers until <paramref name="ct"/> is cancelled; completes when every worker has stopped.</summary>
    public Task RunAsync(CancellationToken ct)
    {
        lock (_workersLock)
        {
            _stopping = ct;
            _started = true;
            StartWorkers();
        }

        return _workersStopped.Task;
    }

    // Under _workersLock.
    private void StartWorkers()
    {
        for (var i = 0; i < _concurrency; i++)
        {
            if (_workers.Add(i))
            {
                var index = i;
                _ = Task.Run(() => WorkerAsync(index, _stopping), CancellationToken.None);
            }
        }
    }

    private async Task WorkerAsync(int index, CancellationToken ct)
    {
        try
        {
            while (index < _concurrency && await _queue.Reader.WaitToReadAsync(ct))
            {
                if (index >= _concurrency || !_queue.Reader.TryRead(out var queued))
                {
                    continue;
                }

                var (dispatch, parent) = queued;
                using var span = Telemetry.ClusterTelemetry.StartRun(dispatch.JobId, dispatch.Role, dispatch.NodeId, parent);
                try
                {
                    await ProcessAsync(dispatch, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // Said, not left to time out: the role goes to another node at once, and a job that fails the
                    // same way on several nodes fails as its own fault. This worker keeps serving.
                    LogRunFailed(dispatch.JobId, dispatch.AssignmentId, Node.Id, ex);
                    await ReportErrorAsync(dispatch, ex);
                }
                finally
                {
                    if (_known.TryRemove((dispatch.JobId, dispatch.AssignmentId), out var cts))
                    {
                        cts?.Dispose();
                    }

                    Finished?.Invoke(this);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_workersLock)
            {
                _workers.Remove(index);
                if (ct.IsCancellationRequested)
                {
                    if (_workers.Count == 0)
                    {
                        _workersStopped.TrySetResult();
                    }
                }
                else if (index < _concurrency)
                {
                    // Grown back while this worker was leaving: it is needed after all.
                    StartWorkers();
                }
            }
        }
    }

    private async Task ProcessAsync(JobDispatch dispatch, CancellationToken ct)
    {
        if (_offline)
        {
            return;
        }

        if (Unhealthy is { } unhealthy)
        {
            // Not run: the assignment times out and goes to another node.
            LogRunDeclined(dispatch.JobId, dispatch.AssignmentId, Node.Id, unhealthy);
            return;
        }

        var grain = _grains.GetGrain<IJobGrain>(dispatch.JobId);
        var work = dispatch.Spec is { } spec
            ? new JobWork(dispatch.JobId, dispatch.AssignmentId, dispatch.NodeId, dispatch.Role, spec)
            : await grain.GetWorkAsync(dispatch.AssignmentId, dispatch.NodeId);
        if (work is null)
        {
            return;
        }

        var memory = RunMemory.Of(work.Spec.Limits, _options.RunMemoryOverheadBytes);
        if (!await AdmitAsync(memory, ct))
        {
            LogRunDeclined(work.JobId, work.AssignmentId, Node.Id, $"its {memory} bytes of memory do not fit in the node's {MemoryBytes} (reserved: {ReservedMemory}) within {_options.DispatchGrace}");
            return;
        }

        var run = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _known[(dispatch.JobId, dispatch.AssignmentId)] = run;
        Interlocked.Increment(ref _running);
        var started = Stopwatch.GetTimestamp();
        Task<RunResult>? task = null;
        var abandoned = false;
        RunResult result;
        Interlocked.Increment(ref _inFlight);
        try
        {
            task = _runner.RunAsync(work, run.Token);
            if (await WatchAsync(task, work.Spec.Limits.WallTime, run, ct) is { } finished)
            {
                result = finished;
            }
            else
            {
                abandoned = true;
                result = Abandon(task, work, memory, run);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && task is { IsCompleted: false })
        {
            // Shutting down: the run was told to stop; its memory is released when it does.
            abandoned = true;
            _ = task.ContinueWith(
                (t, state) =>
                {
                    _ = t.Exception;
                    var executor = (NodeExecutor)state!;
                    executor.ReleaseMemory(memory);
                    Interlocked.Decrement(ref executor._inFlight);
                    run.Dispose();
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            _known[(dispatch.JobId, dispatch.AssignmentId)] = null;
            if (!abandoned)
            {
                Interlocked.Decrement(ref _inFlight);
                ReleaseMemory(memory);
                run.Dispose();
            }
        }

        if (ct.IsCancellationRequested || _offline)
        {
            // Shutting down or stopped: the run was cut short, so it is no result; the assignment times out and moves on.
            return;
        }

        if (Lying && work.Role == JobRole.Executor)
        {
            LogLying(Node.Id, work.JobId);
            result = result with { Output = [.. result.Output, .. "(altered)"u8] };
        }

        var hash = ResultHash.Compute(result.Output, result.ExitCode, result.Fuel, result.Outcome);
        var report = new ExecutionReport(work.AssignmentId, Node.Id, hash, result.Output, result.ExitCode, result.Fuel, result.Outcome, result.Detail, Stopwatch.GetElapsedTime(started));
        Telemetry.ClusterTelemetry.RunReported(work.Role, result.Fuel, report.Duration);
        if (!await grain.ReportAsync(report))
        {
            LogReportRejected(work.JobId, work.AssignmentId, Node.Id);
        }
    }

    /// <summary>
    /// Gives up on a stuck run: the guest did not stop at its wall-clock limit nor when cancelled. The worker is freed;
    /// the run keeps its memory (and counts as stuck) until it returns.
    /// </summary>
    /// <returns>What to report: ended at the wall-clock limit, with the reason.</returns>
    private RunResult Abandon(Task<RunResult> task, JobWork work, long memory, CancellationTokenSource run)
    {
        Interlocked.Add(ref _stuckMemory, memory);
        var stuck = Interlocked.Increment(ref _stuck);
        LogRunStuck(work.JobId, work.AssignmentId, Node.Id, work.Spec.Limits.WallTime, _options.StuckRunGrace, stuck);
        if (stuck == _options.MaxStuckRuns + 1 && Unhealthy is { } reason)
        {
            LogNodeUnhealthy(Node.Id, reason);
        }

        _ = task.ContinueWith(
            (t, state) => ((NodeExecutor)state!).StuckRunReturned(t, work, memory, run),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return new RunResult(
            [],
            ExitCodes.WallTime,
            0,
            RunOutcome.WallTimeExceeded,
            $"the run did not stop within {_options.StuckRunGrace} after its wall-clock limit of {work.Spec.Limits.WallTime}, nor when cancelled; node {Node.Id} abandoned its thread");
    }

    /// <summary>
    /// The run's result, or null when it is stuck: it has not returned <see cref="ComputeOptions.StuckRunGrace"/> after
    /// its wall-clock limit (counted from the start, loading included), nor within a second (at most the grace) of being
    /// cancelled then, which also ends a run still loading its module or inputs.
    /// </summary>
    private async Task<RunResult?> WatchAsync(Task<RunResult> task, TimeSpan wallTime, CancellationTokenSource run, CancellationToken ct)
    {
        try
        {
            return await task.WaitAsync(wallTime + _options.StuckRunGrace, _time, ct);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
        }

        TryCancel(run);
        try
        {
            return await task.WaitAsync(_options.StuckRunGrace < StopWait ? _options.StuckRunGrace : StopWait, _time, ct);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            return null;
        }
    }

    /// <summary>Waits until the run's memory fits next to the admitted runs; false when it never will or not within <see cref="ComputeOptions.DispatchGrace"/>.</summary>
    private async Task<bool> AdmitAsync(long bytes, CancellationToken ct)
    {
        if (bytes > MemoryBytes)
        {
            return false;
        }

        var since = _time.GetTimestamp();
        while (true)
        {
            Task freed;
            lock (_memoryLock)
            {
                if (_reservedMemory + bytes <= MemoryBytes)
                {
                    _reservedMemory += bytes;
                    return true;
                }

                // Created only when a run has to wait, so a release costs nothing when nobody does.
                _memoryFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                freed = _memoryFreed.Task;
            }

            var left = _options.DispatchGrace - _time.GetElapsedTime(since);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await freed.WaitAsync(left, _time, ct);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    private void ReleaseMemory(long bytes)
    {
        TaskCompletionSource? freed;
        lock (_memoryLock)
        {
            _reservedMemory -= bytes;
            freed = _memoryFreed;
            _memoryFreed = null;
        }

        freed?.TrySetResult();
    }

    private void StuckRunReturned(Task<RunResult> task, JobWork work, long memory, CancellationTokenSource run)
    {
        // Observed so a late failure is not an unobserved task exception; the result itself is long since reported.
        _ = task.Exception;
        run.Dispose();
        var wasUnhealthy = Unhealthy is not null;
        Interlocked.Add(ref _stuckMemory, -memory);
        var stuck = Interlocked.Decrement(ref _stuck);
        Interlocked.Decrement(ref _inFlight);
        ReleaseMemory(memory);
        LogStuckRunReturned(work.JobId, work.AssignmentId, Node.Id, stuck);
        if (wasUnhealthy && Unhealthy is null)
        {
            LogNodeHealthyAgain(Node.Id);
        }

        Finished?.Invoke(this);
    }

    private async Task ReportErrorAsync(JobDispatch dispatch, Exception error)
    {
        if (_offline)
        {
            return;
        }

        try
        {
            await _grains.GetGrain<IJobGrain>(dispatch.JobId).ReportErrorAsync(new RunErrorReport(dispatch.AssignmentId, Node.Id, $"{error.GetType().Name}: {error.Message}"));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Then the assignment times out as before.
            LogRunFailed(dispatch.JobId, dispatch.AssignmentId, Node.Id, ex);
        }
    }

    [LoggerMessage(EventId = JobsEventId.RunFailed, Level = LogLevel.Warning, Message = "Assignment {AssignmentId} of job {JobId} on node {NodeId} failed before reporting")]
    private partial void LogRunFailed(string jobId, int assignmentId, string nodeId, Exception exception);

    [LoggerMessage(EventId = JobsEventId.ReportRejected, Level = LogLevel.Debug, Message = "Report of assignment {AssignmentId} of job {JobId} by node {NodeId} came too late and was not counted")]
    private partial void LogReportRejected(string jobId, int assignmentId, string nodeId);

    [LoggerMessage(EventId = JobsEventId.RunStuck, Level = LogLevel.Error, Message = "Assignment {AssignmentId} of job {JobId} on node {NodeId} did not stop within {Grace} after its wall-clock limit of {WallTime}; its thread is abandoned ({Stuck} stuck on the node)")]
    private partial void LogRunStuck(string jobId, int assignmentId, string nodeId, TimeSpan wallTime, TimeSpan grace, int stuck);

    [LoggerMessage(EventId = JobsEventId.StuckRunReturned, Level = LogLevel.Warning, Message = "The stuck run of assignment {AssignmentId} of job {JobId} on node {NodeId} returned at last ({Stuck} still stuck)")]
    private partial void LogStuckRunReturned(string jobId, int assignmentId, string nodeId, int stuck);

    [LoggerMessage(EventId = JobsEventId.NodeUnhealthy, Level = LogLevel.Error, Message = "Node {NodeId} is unhealthy: {Reason}")]
    private partial void LogNodeUnhealthy(string nodeId, string reason);

    [LoggerMessage(EventId = JobsEventId.NodeHealthyAgain, Level = LogLevel.Warning, Message = "Node {NodeId} is healthy again: its stuck runs returned")]
    private partial void LogNodeHealthyAgain(string nodeId);

    [LoggerMessage(EventId = JobsEventId.RunDeclined, Level = LogLevel.Warning, Message = "Assignment {AssignmentId} of job {JobId} was not run on node {NodeId}: {Reason}")]
    private partial void LogRunDeclined(string jobId, int assignmentId, string nodeId, string reason);

    [LoggerMessage(EventId = JobsEventId.LyingNode, Level = LogLevel.Warning, Message = "Chaos: node {NodeId} alters its output of job {JobId} (Xmbl:Compute:LyingNodes)")]
    private partial void LogLying(string nodeId, string jobId);
}
