using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>
/// Runs the graceful leaves of this silo's nodes (<c>xmbl node leave</c>): the node is given no new jobs or shards,
/// its runs finish, its shards are handed to other nodes pass after pass until it holds none, and it is marked left.
/// When every node of the silo has left, the silo stops (exit code 0). A leave under way resumes when the silo restarts.
/// </summary>
public sealed partial class NodeLeaver : IHostedService, IDisposable
{
    private readonly LocalNodes _nodes;
    private readonly IGrainFactory _grains;
    private readonly ObjectService _objects;
    private readonly NodeAnnouncement _announcement;
    private readonly NodeAnnouncer _announcer;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private readonly ILogger<NodeLeaver> _logger;
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Creates the leaver.</summary>
    public NodeLeaver(
        LocalNodes nodes,
        IGrainFactory grains,
        ObjectService objects,
        NodeAnnouncement announcement,
        NodeAnnouncer announcer,
        IHostApplicationLifetime lifetime,
        IOptions<NodeOptions> options,
        [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
        ILogger<NodeLeaver> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _nodes = nodes;
        _grains = grains;
        _objects = objects;
        _announcement = announcement;
        _announcer = announcer;
        _lifetime = lifetime;
        _period = options.Value.HeartbeatPeriod;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Starts the leave of <paramref name="node"/>, or reports the one under way or done. The hand-off runs in the
    /// background; its progress is in the node's record (<see cref="NodeInfo.Leave"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is stopped (its shards are offline): start it first.</exception>
    public async Task<NodeLeave> LeaveAsync(LocalNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!_nodes.IsOnline(node))
        {
            throw new InvalidOperationException($"Node '{node.Id}' is stopped, so its shards cannot be handed over; start it, then leave.");
        }

        var shards = await _objects.CountShardsAsync(node.Id, cancellationToken);
        var leave = await _grains.GetGrain<INodeGrain>(node.Id).BeginLeaveAsync(_time.GetUtcNow(), shards);
        if (leave.Phase == NodeLeavePhase.Leaving)
        {
            EnsureRunning(node, leave);
        }

        return leave;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(ResumeAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host stops waiting; a leave resumes at the next start.
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _stopping.Dispose();

    private async Task ResumeAsync()
    {
        try
        {
            await _announcer.Registered.WaitAsync(_stopping.Token);
            foreach (var node in _nodes.All)
            {
                if (await _grains.GetGrain<INodeGrain>(node.Id).GetAsync() is { Leave: { Phase: NodeLeavePhase.Leaving } leave })
                {
                    LogResumed(node.Id);
                    EnsureRunning(node, leave);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            // The operator can ask again; asking resumes the leave where it stood.
            LogResumeFailed(ex);
        }
    }

    private void EnsureRunning(LocalNode node, NodeLeave leave)
    {
        lock (_running)
        {
            if (_running.TryGetValue(node.Id, out var running) && !running.IsCompleted)
            {
                return;
            }

            _running[node.Id] = Task.Run(() => RunAsync(node, leave), CancellationToken.None);
        }
    }

    private async Task RunAsync(LocalNode node, NodeLeave leave)
    {
        var stopping = _stopping.Token;
        var grain = _grains.GetGrain<INodeGrain>(node.Id);
        var moved = leave.ShardsMoved;
        var left = leave.ShardsLeft;
        var reportedAt = _time.GetTimestamp();
        LogLeaving(node.Id, leave.ShardsAtStart);
        while (true)
        {
            try
            {
                var pass = await _objects.HandOffPassAsync(node.Id, leave.StartedAt, n =>
                {
                    moved += n;
                    left = Math.Max(0, left - n);
                    if (_time.GetElapsedTime(reportedAt) >= _period)
                    {
                        reportedAt = _time.GetTimestamp();
                        _ = ReportAsync(grain, leave with { ShardsMoved = moved, ShardsLeft = left, RunningJobs = _announcement.CurrentLoad(node).RunningJobs });
                    }
                }, stopping);
                left = pass.Remaining;
                var running = _announcement.CurrentLoad(node).RunningJobs;
                if (pass.Remaining == 0 && running == 0)
                {
                    await grain.UpdateLeaveAsync(leave with { Phase = NodeLeavePhase.Left, ShardsMoved = moved, ShardsLeft = 0, RunningJobs = 0, FinishedAt = _time.GetUtcNow() });
                    _nodes.SetOnline(node, false);
                    LogLeft(node.Id, moved);
                    await StopSiloWhenAllLeftAsync();
                    return;
                }

                await grain.UpdateLeaveAsync(leave with { ShardsMoved = moved, ShardsLeft = pass.Remaining, RunningJobs = running });
            }
            catch (InsufficientShardNodesException ex)
            {
                // Nothing is lost: each object switched to its copies only once they were all written.
                LogStopped(node.Id, moved, ex.Message);
                await ReportAsync(grain, leave with { Phase = NodeLeavePhase.Stopped, ShardsMoved = moved, ShardsLeft = left, RunningJobs = _announcement.CurrentLoad(node).RunningJobs, FinishedAt = _time.GetUtcNow(), Reason = ex.Message });
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database or a node may be away for a moment: the next pass picks up where this one stopped.
                LogPassFailed(node.Id, ex);
            }

            try
            {
                await Task.Delay(_period, _time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReportAsync(INodeGrain grain, NodeLeave leave)
    {
        try
        {
            await grain.UpdateLeaveAsync(leave);
        }
        catch (Exception ex)
        {
            LogReportFailed(grain.GetPrimaryKeyString(), ex);
        }
    }

    private async Task StopSiloWhenAllLeftAsync()
    {
        foreach (var node in _nodes.All)
        {
            if (await _grains.GetGrain<INodeGrain>(node.Id).GetAsync() is not { Leave.Phase: NodeLeavePhase.Left })
            {
                return;
            }
        }

        LogSiloStopping(_nodes.All.Count);
        _lifetime.StopApplication();
    }

    [LoggerMessage(EventId = 2160, Level = LogLevel.Information, Message = "Node {NodeId} is leaving: no new jobs or shards; handing over its {Shards} shard(s)")]
    private partial void LogLeaving(string nodeId, int shards);

    [LoggerMessage(EventId = 2161, Level = LogLevel.Information, Message = "Node {NodeId} left: {Shards} shard(s) handed over, no runs left")]
    private partial void LogLeft(string nodeId, int shards);

    [LoggerMessage(EventId = 2162, Level = LogLevel.Warning, Message = "The leave of node {NodeId} stopped after {Shards} shard(s) were handed over: {Reason}")]
    private partial void LogStopped(string nodeId, int shards, string reason);

    [LoggerMessage(EventId = 2163, Level = LogLevel.Warning, Message = "A hand-off pass of leaving node {NodeId} failed; the next one retries")]
    private partial void LogPassFailed(string nodeId, Exception exception);

    [LoggerMessage(EventId = 2164, Level = LogLevel.Warning, Message = "Could not record the leave progress of node {NodeId}")]
    private partial void LogReportFailed(string nodeId, Exception exception);

    [LoggerMessage(EventId = 2165, Level = LogLevel.Information, Message = "Resuming the leave of node {NodeId}")]
    private partial void LogResumed(string nodeId);

    [LoggerMessage(EventId = 2166, Level = LogLevel.Error, Message = "Could not check for leaves to resume; ask again to resume them")]
    private partial void LogResumeFailed(Exception exception);

    [LoggerMessage(EventId = 2167, Level = LogLevel.Warning, Message = "Every node of this silo ({Nodes}) has left: the silo stops (exit code 0)")]
    private partial void LogSiloStopping(int nodes);
}
