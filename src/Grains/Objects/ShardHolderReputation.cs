using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>
/// Shard holding and node reputation, for silo and edge nodes alike: a node that sends back an altered shard loses
/// reputation as for a wrong result, and placement (writer, repair, hand-off) gives no new shards to a node whose
/// reputation is below <see cref="ComputeOptions.MinReputation"/>, the bar the scheduler gives no jobs under.
/// </summary>
/// <remarks>
/// Each corrupt shard is written to the node's reputation grain at once (corruption is rare and the grain decides
/// whether the shard was counted already, so there is nothing to batch), and the score it returns goes to this silo's
/// scheduler at once, as a job outcome's does. A shard is reported here once until it is forgotten from a bounded set,
/// so a storm of reads of one bad shard makes one grain call, and the grain counts each shard once whichever silo finds
/// it. The scores placement reads are the scheduler's where this process runs one (a silo), else a listing of the
/// reputations refreshed every <see cref="ComputeOptions.NodeRefreshInterval"/> (a standalone gateway).
/// </remarks>
public sealed partial class ShardHolderReputation : ICorruptShardObserver
{
    /// <summary>How many reported shard ids are kept to skip repeats before the set starts over.</summary>
    private const int RecentShardsKept = 4096;

    private readonly IGrainFactory _grains;
    private readonly ReputationDirectory _directory;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ComputeOptions _options;
    private readonly ILogger<ShardHolderReputation> _logger;
    private readonly ConcurrentDictionary<ShardId, byte> _reported = new();
    private readonly ConcurrentDictionary<Task, byte> _recording = new();
    // Reputations this process's own reports returned (processes without a scheduler); the newer of this and the
    // listing wins, so a listing read while a report was being written cannot undo the report.
    private readonly ConcurrentDictionary<string, NodeReputation> _observed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _listing = new(1, 1);
    private volatile IReadOnlyDictionary<string, NodeReputation>? _listed;
    private long _listedAtTicks;
    private JobScheduler? _scheduler;
    private volatile bool _schedulerResolved;

    /// <summary>Creates the service.</summary>
    public ShardHolderReputation(
        IGrainFactory grains,
        IGrainStateQuery query,
        IOptions<ComputeOptions> options,
        [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
        IServiceProvider services,
        ILogger<ShardHolderReputation> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _grains = grains;
        _directory = new ReputationDirectory(query, time, options);
        _services = services;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc/>
    public void OnCorruptShard(string nodeId, ShardId shardId)
    {
        if (!_reported.TryAdd(shardId, 0))
        {
            return;
        }

        if (_reported.Count > RecentShardsKept)
        {
            // Forgetting only costs a repeated grain call, which the grain counts as nothing.
            _reported.Clear();
            _reported.TryAdd(shardId, 0);
        }

        var recording = RecordAsync(nodeId, shardId);
        _recording.TryAdd(recording, 0);
        _ = recording.ContinueWith(t => _recording.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Of <paramref name="nodeIds"/>, those placement gives no new shards: reputation below
    /// <see cref="ComputeOptions.MinReputation"/>.
    /// </summary>
    /// <param name="nodeIds">The live nodes.</param>
    /// <param name="cancellationToken">Cancels a listing of the reputations.</param>
    /// <returns>The excluded nodes.</returns>
    public async ValueTask<IReadOnlySet<string>> BelowMinimumAsync(IEnumerable<string> nodeIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeIds);
        var below = new HashSet<string>(StringComparer.Ordinal);
        if (Scheduler is { } scheduler)
        {
            foreach (var id in nodeIds)
            {
                if (scheduler.ReputationOf(id) < _options.MinReputation)
                {
                    below.Add(id);
                }
            }

            return below;
        }

        var listed = await ListedAsync(cancellationToken);
        foreach (var id in nodeIds)
        {
            listed.TryGetValue(id, out var reputation);
            if (_observed.TryGetValue(id, out var observed) && (reputation is null || observed.UpdatedAt >= reputation.UpdatedAt))
            {
                reputation = observed;
            }

            var score = reputation?.Score ?? NodeReputation.InitialScore;
            if (score < _options.MinReputation)
            {
                below.Add(id);
            }
        }

        return below;
    }

    /// <summary>Waits for the reputation writes started so far (tests, and a clean stop).</summary>
    internal Task WhenRecordedAsync() => Task.WhenAll(_recording.Keys);

    private JobScheduler? Scheduler
    {
        get
        {
            // Looked up at first use: the scheduler's own dependencies reach the object service, which needs this.
            if (!_schedulerResolved)
            {
                _scheduler = _services.GetService<JobScheduler>();
                _schedulerResolved = true;
            }

            return _scheduler;
        }
    }

    private async Task RecordAsync(string nodeId, ShardId shardId)
    {
        // Off the caller's path: the reader reports from its fetch loop.
        await Task.Yield();
        try
        {
            var reputation = await _grains.GetGrain<INodeReputationGrain>(nodeId).RecordCorruptShardAsync(shardId.Value, _time.GetUtcNow());
            Scheduler?.ObserveReputation(nodeId, reputation.Score);
            // Reports of one node finish in any order: keep the latest state the grain returned.
            _observed.AddOrUpdate(nodeId, reputation, (_, known) => Later(reputation, known) ? reputation : known);
            LogCorruptShard(nodeId, shardId.Value, reputation.Score, reputation.CorruptShards);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Counted by none: the next pass that finds the shard tries again.
            _reported.TryRemove(shardId, out _);
            LogRecordFailed(nodeId, shardId.Value, ex);
        }
    }

    private static bool Later(NodeReputation a, NodeReputation b) =>
        a.UpdatedAt != b.UpdatedAt ? a.UpdatedAt > b.UpdatedAt
            : a.Agreements + a.Disagreements + a.Timeouts + a.CorruptShards > b.Agreements + b.Disagreements + b.Timeouts + b.CorruptShards;

    private async ValueTask<IReadOnlyDictionary<string, NodeReputation>> ListedAsync(CancellationToken cancellationToken)
    {
        if (_listed is { } fresh && _time.GetUtcNow().UtcTicks - Interlocked.Read(ref _listedAtTicks) < _options.NodeRefreshInterval.Ticks)
        {
            return fresh;
        }

        await _listing.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            if (_listed is { } listed && now.UtcTicks - Interlocked.Read(ref _listedAtTicks) < _options.NodeRefreshInterval.Ticks)
            {
                return listed;
            }

            listed = await _directory.ListAsync(cancellationToken);
            _listed = listed;
            Interlocked.Exchange(ref _listedAtTicks, now.UtcTicks);
            return listed;
        }
        finally
        {
            _listing.Release();
        }
    }

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "Node {NodeId} holds shard {ShardId} altered (a read or a scrub found bytes other than the manifest's); its reputation is now {Score:0.###} ({CorruptShards} corrupt shard(s) counted)")]
    private partial void LogCorruptShard(string nodeId, string shardId, double score, long corruptShards);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Warning, Message = "Recording corrupt shard {ShardId} against node {NodeId} failed; the next pass that finds it tries again")]
    private partial void LogRecordFailed(string nodeId, string shardId, Exception exception);
}
