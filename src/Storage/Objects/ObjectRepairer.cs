using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>The outcome of repairing one object.</summary>
/// <param name="Manifest">The manifest to commit (the input when nothing changed).</param>
/// <param name="RepairedShards">How many shards were rebuilt and stored anew.</param>
/// <param name="Superseded">The placements the new shards replace; delete them (<see cref="ObjectRepairer.DeleteSupersededAsync"/>) once the manifest is committed.</param>
/// <param name="UnrecoverableStripes">Stripes with fewer than k good shards: their data is lost.</param>
/// <param name="HealthBefore">The health found before repairing.</param>
/// <param name="HealthAfter">The health of the returned manifest.</param>
public sealed record ObjectRepairResult(
    ObjectManifest Manifest,
    int RepairedShards,
    IReadOnlyList<ShardPlacement> Superseded,
    IReadOnlyList<int> UnrecoverableStripes,
    ObjectHealth HealthBefore,
    ObjectHealth HealthAfter)
{
    /// <summary>Whether the manifest changed and must be committed.</summary>
    public bool Changed => RepairedShards > 0;
}

/// <summary>Rebuilds the shards of an object that are on dead nodes or failed a scrub, onto healthy nodes.</summary>
/// <remarks>
/// Stripe by stripe (one stripe buffer at a time), it fetches k good shards, reconstructs the bad ones, checks each
/// rebuilt shard against its SHA-256 in the manifest, and stores it under a new id on a live node that holds no other
/// shard of the stripe when one exists (distinct nodes first, distinct volumes second; among equals, the node that lost
/// or altered the shard comes last). If storing fails, the shards
/// this call stored are deleted and the exception propagates; the caller's manifest is unchanged.
/// </remarks>
/// <param name="client">The shard transport.</param>
/// <param name="pool">The stripe buffer pool; default a private pool.</param>
/// <param name="placement">The placement policy; default <see cref="DefaultPlacementPolicy"/>.</param>
/// <param name="options">Supplies <see cref="StorageOptions.ShardTimeout"/>.</param>
/// <param name="logger">Where to report repairs and lost stripes.</param>
/// <param name="corrupt">Told of each shard a scrub or a repair found altered on its node; null when nobody listens.</param>
public sealed class ObjectRepairer(IShardClient client, StripeBufferPool? pool = null, IPlacementPolicy? placement = null, StorageOptions? options = null, ILogger<ObjectRepairer>? logger = null, ICorruptShardObserver? corrupt = null)
{
    private readonly TimeSpan _shardTimeout = (options ?? new StorageOptions()).ShardTimeout;
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;
    private readonly IShardClient _client = client ?? throw new ArgumentNullException(nameof(client));
    private readonly StripeBufferPool _pool = pool ?? new StripeBufferPool();
    private readonly IPlacementPolicy _placement = placement ?? DefaultPlacementPolicy.Instance;

    /// <summary>Has every live node re-hash its shards of <paramref name="manifest"/>; returns the shards found corrupt or missing.</summary>
    /// <remarks>Shards on nodes outside <paramref name="liveNodes"/> are not asked about (they count as unhealthy anyway), nor are those whose node fails to answer.</remarks>
    public async Task<IReadOnlySet<ShardId>> ScrubAsync(ObjectManifest manifest, IReadOnlySet<string> liveNodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(liveNodes);
        var bad = new ConcurrentDictionary<ShardId, byte>();
        var shards = manifest.AllShards.Where(p => liveNodes.Contains(p.NodeId));
        await Parallel.ForEachAsync(shards, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (p, ct) =>
        {
            ShardScrubResult result;
            try
            {
                result = await _client.ScrubAsync(p.NodeId, p.ShardId, ct);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return;
            }

            if (result.Status != ShardHealthStatus.Healthy
                || !string.Equals(result.ExpectedSha256, p.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                bad.TryAdd(p.ShardId, 0);

                // Missing is a lost shard, not an altered one; a shard indexed under another hash holds other bytes.
                if (result.Status != ShardHealthStatus.Missing)
                {
                    corrupt?.OnCorruptShard(p.NodeId, p.ShardId);
                }
            }
        });
        return bad.Keys.ToHashSet();
    }

    /// <summary>Rebuilds the unhealthy shards of <paramref name="manifest"/>.</summary>
    /// <param name="manifest">The object.</param>
    /// <param name="liveCandidates">The live nodes with their free space; shards elsewhere count as lost. Those marked
    /// <see cref="PlacementCandidate.Excluded"/> keep their shards but receive no rebuilt ones.</param>
    /// <param name="badShards">Shards scrubs reported corrupt or missing (see <see cref="ScrubAsync"/>); null when none are known.</param>
    /// <param name="cancellationToken">Cancels the repair; shards it stored are deleted.</param>
    public async Task<ObjectRepairResult> RepairAsync(ObjectManifest manifest, IReadOnlyList<PlacementCandidate> liveCandidates, IReadOnlySet<ShardId>? badShards = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(liveCandidates);
        var live = liveCandidates.Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
        var before = ObjectHealth.Evaluate(manifest, live, badShards);
        var codec = CodecCache.Get(manifest.DataShards, manifest.ParityShards);
        var total = manifest.TotalShards;
        var stripes = manifest.Stripes.ToArray();
        var superseded = new List<ShardPlacement>();
        var unrecoverable = new List<int>();
        var written = new ConcurrentQueue<(string Node, ShardId Id)>();
        var assigned = new Dictionary<string, long>(StringComparer.Ordinal);
        var repaired = 0;
        try
        {
            for (var s = 0; s < stripes.Length; s++)
            {
                var stripe = stripes[s];
                var bad = stripe.Shards.Where(p => !ObjectHealth.IsHealthy(p, live, badShards)).Select(p => p.ShardIndex).ToHashSet();
                if (bad.Count == 0)
                {
                    continue;
                }

                var rentSize = total * stripe.ShardLength;
                var buffer = await _pool.RentAsync(rentSize, cancellationToken);
                try
                {
                    var failures = new List<ShardFetchFailure>();
                    bool[] present;
                    try
                    {
                        present = await StripeFetcher.FetchAsync(_client, ObjectReader.Describe(manifest), stripe, manifest.DataShards, manifest.ParityShards, buffer.AsMemory(0, rentSize), 0, manifest.DataShards - 1, needAnyK: true, bad, failures, _shardTimeout, cancellationToken);
                    }
                    catch (ObjectUnreadableException)
                    {
                        StorageLog.StripeUnrecoverable(_logger, ObjectReader.Describe(manifest), stripe.Index);
                        unrecoverable.Add(stripe.Index);
                        continue;
                    }

                    // Shards thought healthy that failed to fetch are rebuilt too.
                    foreach (var f in failures)
                    {
                        bad.Add(f.Shard.ShardIndex);
                        ObjectReader.ReportIfCorrupt(corrupt, f);
                    }

                    var slices = ObjectReader.Slices(buffer, total, stripe.ShardLength);
                    codec.Reconstruct(slices, present);
                    var rebuilt = bad.Order().ToArray();
                    var byIndex = stripe.Shards.ToDictionary(p => p.ShardIndex);
                    foreach (var i in rebuilt)
                    {
                        var actual = Convert.ToHexStringLower(SHA256.HashData(slices[i].Span));
                        if (!string.Equals(actual, byIndex[i].Sha256, StringComparison.OrdinalIgnoreCase))
                        {
                            throw new ObjectCorruptException($"Rebuilt shard {i} of stripe {stripe.Index} of {ObjectReader.Describe(manifest)} hashes to {actual}, not {byIndex[i].Sha256}.");
                        }
                    }

                    var occupied = stripe.Shards.Where(p => !bad.Contains(p.ShardIndex))
                        .GroupBy(p => p.NodeId, StringComparer.Ordinal)
                        .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                    // A node that lost or altered a shard of the stripe takes its replacement only when no other node
                    // holding as few of the stripe's shards can.
                    var lastResort = stripe.Shards.Where(p => bad.Contains(p.ShardIndex)).Select(p => p.NodeId).ToHashSet(StringComparer.Ordinal);
                    var adjusted = liveCandidates.Where(c => !c.Excluded).Select(c => assigned.TryGetValue(c.NodeId, out var used) ? c with { FreeBytes = c.FreeBytes - used } : c).ToArray();
                    var nodes = _placement.Place(stripe.Index, rebuilt.Length, stripe.ShardLength, adjusted, occupied, lastResort);
                    var replacements = new ShardPlacement[rebuilt.Length];
                    var puts = new Task[rebuilt.Length];
                    for (var j = 0; j < rebuilt.Length; j++)
                    {
                        var i = rebuilt[j];
                        var node = nodes[j];
                        assigned[node] = (assigned.TryGetValue(node, out var used) ? used : 0) + stripe.ShardLength;
                        var id = ShardId.New();
                        written.Enqueue((node, id));
                        replacements[j] = new ShardPlacement(i, node, id, byIndex[i].Sha256);
                        puts[j] = _client.PutAsync(node, id, new ReadOnlyMemoryStream(slices[i]), stripe.ShardLength, byIndex[i].Sha256, cancellationToken);
                    }

                    await Task.WhenAll(puts);
                    var shards = stripe.Shards.ToArray();
                    for (var j = 0; j < rebuilt.Length; j++)
                    {
                        var at = Array.FindIndex(shards, p => p.ShardIndex == rebuilt[j]);
                        superseded.Add(shards[at]);
                        shards[at] = replacements[j];
                    }

                    stripes[s] = stripe with { Shards = shards };
                    repaired += rebuilt.Length;
                    StorageLog.StripeRepaired(_logger, ObjectReader.Describe(manifest), stripe.Index, rebuilt.Length);
                }
                finally
                {
                    _pool.Return(buffer, rentSize);
                }
            }
        }
        catch
        {
            await Parallel.ForEachAsync(written, async (w, _) =>
            {
                try
                {
                    using var timeout = new CancellationTokenSource(_shardTimeout);
                    await _client.DeleteAsync(w.Node, w.Id, timeout.Token);
                }
                catch (Exception e)
                {
                    // Best effort: the node may be the reason the repair failed.
                    StorageLog.CleanupDeleteFailed(_logger, w.Id.Value, w.Node, e);
                }
            });
            throw;
        }

        var updated = repaired == 0 ? manifest : manifest with { Stripes = stripes };
        var after = ObjectHealth.Evaluate(updated, live, badShards);
        return new ObjectRepairResult(updated, repaired, superseded, unrecoverable, before, after);
    }

    /// <summary>Deletes the shards a committed repair replaced, where their nodes can still be reached; returns how many were deleted.</summary>
    public async Task<int> DeleteSupersededAsync(ObjectRepairResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        var deleted = 0;
        await Parallel.ForEachAsync(result.Superseded, cancellationToken, async (p, ct) =>
        {
            try
            {
                if (await _client.DeleteAsync(p.NodeId, p.ShardId, ct))
                {
                    Interlocked.Increment(ref deleted);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                // A dead node's copy goes away with the node.
            }
        });
        return deleted;
    }
}
