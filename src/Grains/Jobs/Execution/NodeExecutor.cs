using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// One node's executor: a queue of assignments and as many workers as the node's advertised concurrency. Each worker
/// runs the module outside any grain call and reports the result with one call to the job grain.
/// </summary>
internal sealed partial class NodeExecutor
{
    private readonly Channel<JobDispatch> _queue = Channel.CreateUnbounded<JobDispatch>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly ConcurrentDictionary<(string JobId, int AssignmentId), CancellationTokenSource?> _known = new();
    private readonly IGrainFactory _grains;
    private readonly IJobRunner _runner;
    private readonly ILogger _logger;
    private int _running;
    private volatile bool _offline;

    public NodeExecutor(LocalNode node, int concurrency, bool lying, IGrainFactory grains, IJobRunner runner, ILogger logger)
    {
        Node = node;
        Concurrency = Math.Max(1, concurrency);
        Lying = lying;
        _grains = grains;
        _runner = runner;
        _logger = logger;
    }

    public LocalNode Node { get; }

    public int Concurrency { get; }

    /// <summary>Chaos testing: this executor alters its outputs.</summary>
    public bool Lying { get; }

    /// <summary>Assignments running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Assignments queued or running.</summary>
    public int Known => _known.Count;

    /// <summary>Called with this executor after each assignment it finished (reported or given up).</summary>
    public Action<NodeExecutor>? Finished { get; set; }

    /// <summary>Queues an assignment unless it is already queued or running here.</summary>
    public bool Enqueue(JobDispatch dispatch)
    {
        if (!_known.TryAdd((dispatch.JobId, dispatch.AssignmentId), null))
        {
            return false;
        }

        return _queue.Writer.TryWrite(dispatch);
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

    public Task RunAsync(CancellationToken ct)
    {
        var workers = new Task[Concurrency];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkerAsync(ct), CancellationToken.None);
        }

        return Task.WhenAll(workers);
    }

    private async Task WorkerAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var dispatch in _queue.Reader.ReadAllAsync(ct))
            {
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
    }

    private async Task ProcessAsync(JobDispatch dispatch, CancellationToken ct)
    {
        if (_offline)
        {
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

        using var run = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _known[(dispatch.JobId, dispatch.AssignmentId)] = run;
        Interlocked.Increment(ref _running);
        var started = Stopwatch.GetTimestamp();
        RunResult result;
        try
        {
            result = await _runner.RunAsync(work, run.Token);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            _known[(dispatch.JobId, dispatch.AssignmentId)] = null;
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
        if (!await grain.ReportAsync(report))
        {
            LogReportRejected(work.JobId, work.AssignmentId, Node.Id);
        }
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

    [LoggerMessage(EventId = JobsEventId.LyingNode, Level = LogLevel.Warning, Message = "Chaos: node {NodeId} alters its output of job {JobId} (Xmbl:Compute:LyingNodes)")]
    private partial void LogLying(string nodeId, string jobId);
}
