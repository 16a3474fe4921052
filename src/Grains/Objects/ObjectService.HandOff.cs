using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>The shard hand-off of a leaving node (<c>xmbl node leave</c>).</summary>
public sealed partial class ObjectService
{
    /// <summary>How many shards <paramref name="nodeId"/> holds now (named by a manifest or not).</summary>
    public async Task<int> CountShardsAsync(string nodeId, CancellationToken cancellationToken)
    {
        var count = 0;
        ShardId? after = null;
        while (true)
        {
            var page = await _shards.ListAsync(nodeId, after, ShardListing.MaxPageSize, cancellationToken);
            count += page.Count;
            if (page.Count < ShardListing.MaxPageSize)
            {
                return count;
            }

            after = page[^1].Id;
        }
    }

    /// <summary>
    /// One pass of a leaving node's hand-off: every object with shards on <paramref name="nodeId"/> gets each of them
    /// copied to another live node that accepts work, its manifest switched to the copies (only if it is still the
    /// visible version), and only then are the node's shards deleted, so no object has fewer healthy shards at any
    /// moment. Shards no manifest names are deleted once no write can still commit them: older than the orphan grace
    /// period, or after the leave has run that long (writes placed before it began have finished by then).
    /// </summary>
    /// <param name="nodeId">The leaving node (hosted by this silo or not).</param>
    /// <param name="leaveStartedAt">When the leave began.</param>
    /// <param name="moved">Called with the number of shards each object handed over.</param>
    /// <param name="cancellationToken">Stops the pass; copies of the object being moved are deleted.</param>
    /// <returns>The shards moved in this pass and those the node still holds after it.</returns>
    /// <exception cref="InsufficientShardNodesException">No other node can take a shard without the object losing redundancy; nothing of that object changed.</exception>
    public async Task<HandOffPass> HandOffPassAsync(string nodeId, DateTimeOffset leaveStartedAt, Action<int> moved, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(moved);
        var listed = await _nodes.ListAsync(cancellationToken);
        UpdateAddresses(listed);

        // As in the repair pass: shards listed before the manifests are walked, so one whose manifest commits after the
        // walk passed its key is younger than the grace period and kept.
        var stored = await ListAllShardsAsync(nodeId, cancellationToken);
        var named = new HashSet<ShardId>();
        var movedInPass = 0;
        var candidates = await HandOffCandidatesAsync(listed, nodeId, cancellationToken);
        var listedAt = _time.GetTimestamp();
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<ObjectGrainState>(GrainStates.Object, keyPrefix: null, afterKey: after, limit: 200, cancellationToken);
            foreach (var entry in page)
            {
                if (entry.State.Current is not { } version || !version.Manifest.AllShards.Any(s => string.Equals(s.NodeId, nodeId, StringComparison.Ordinal)))
                {
                    continue;
                }

                foreach (var shard in version.Manifest.AllShards)
                {
                    named.Add(shard.ShardId);
                }

                // Free space and liveness change during a long hand-off: list the candidates again every second.
                if (_time.GetElapsedTime(listedAt) > TimeSpan.FromSeconds(1))
                {
                    candidates = await HandOffCandidatesAsync(await _nodes.ListAsync(cancellationToken), nodeId, cancellationToken);
                    listedAt = _time.GetTimestamp();
                }

                var count = await HandOffObjectAsync(entry.Key, version, nodeId, candidates, cancellationToken);
                movedInPass += count;
                if (count > 0)
                {
                    moved(count);
                }
            }

            if (page.Count < 200)
            {
                break;
            }

            after = page[^1].Key;
        }

        var now = _time.GetUtcNow();
        var leaveSettled = now - leaveStartedAt > _orphanGracePeriod;
        foreach (var shard in stored)
        {
            if (named.Contains(shard.Id) || !(leaveSettled || now - shard.CreatedUtc > _orphanGracePeriod))
            {
                continue;
            }

            try
            {
                if (await _shards.DeleteAsync(nodeId, shard.Id, cancellationToken))
                {
                    LogOrphanDeleted(shard.Id.Value, nodeId);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                LogShardDeleteFailed(shard.Id.Value, nodeId, ex);
            }
        }

        return new HandOffPass(movedInPass, await CountShardsAsync(nodeId, cancellationToken));
    }

    // Live nodes that take work, other than the leaving one.
    private async Task<PlacementCandidate[]> HandOffCandidatesAsync(IReadOnlyList<NodeStatus> listed, string leaving, CancellationToken cancellationToken) =>
        [.. (await CandidatesAsync(listed, cancellationToken)).Where(c => !string.Equals(c.NodeId, leaving, StringComparison.Ordinal))];

    private async Task<List<ShardListing>> ListAllShardsAsync(string nodeId, CancellationToken cancellationToken)
    {
        var all = new List<ShardListing>();
        ShardId? after = null;
        while (true)
        {
            var page = await _shards.ListAsync(nodeId, after, ShardListing.MaxPageSize, cancellationToken);
            all.AddRange(page);
            if (page.Count < ShardListing.MaxPageSize)
            {
                return all;
            }

            after = page[^1].Id;
        }
    }

    // Copies each shard of the object on the leaving node to another node, switches the manifest, then deletes the
    // originals; returns how many shards moved (0 when a newer version was committed meanwhile: the next pass sees it).
    private async Task<int> HandOffObjectAsync(string grainKey, StoredObject version, string nodeId, IReadOnlyList<PlacementCandidate> candidates, CancellationToken cancellationToken)
    {
        var copies = new List<(string NodeId, ShardId ShardId)>();
        var originals = new List<ShardPlacement>();
        var assigned = new Dictionary<string, long>(StringComparer.Ordinal);
        var stripes = version.Manifest.Stripes.ToArray();
        try
        {
            for (var s = 0; s < stripes.Length; s++)
            {
                var stripe = stripes[s];
                if (!stripe.Shards.Any(p => string.Equals(p.NodeId, nodeId, StringComparison.Ordinal)))
                {
                    continue;
                }

                var shards = stripe.Shards.ToArray();
                var perNode = shards.GroupBy(p => p.NodeId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                for (var i = 0; i < shards.Length; i++)
                {
                    var original = shards[i];
                    if (!string.Equals(original.NodeId, nodeId, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var target = PickHandOffTarget(version.Manifest, stripe, perNode, candidates, assigned);
                    var copy = new ShardPlacement(original.ShardIndex, target, ShardId.New(), original.Sha256);
                    copies.Add((target, copy.ShardId));
                    try
                    {
                        await using var source = await _shards.OpenReadAsync(nodeId, original.ShardId, original.Sha256, cancellationToken);
                        await _shards.PutAsync(target, copy.ShardId, source, stripe.ShardLength, original.Sha256, cancellationToken);
                    }
                    catch (Exception ex) when (ex is ShardCorruptException or ShardNotFoundException)
                    {
                        // The leaving node's own copy is bad: rebuild the object's shards there from the others instead.
                        LogHandOffRebuild(grainKey, original.ShardId.Value, ex);
                        await DeleteCopiesAsync(copies);
                        return await RebuildOffAsync(grainKey, version, candidates, cancellationToken);
                    }

                    assigned[target] = assigned.GetValueOrDefault(target) + stripe.ShardLength;
                    perNode[target] = perNode.GetValueOrDefault(target) + 1;
                    perNode[nodeId]--;
                    originals.Add(original);
                    shards[i] = copy;
                }

                stripes[s] = stripe with { Shards = shards };
            }
        }
        catch
        {
            await DeleteCopiesAsync(copies);
            throw;
        }

        if (!await _grains.GetGrain<IObjectGrain>(grainKey).SwapManifestAsync(version.Manifest, version.Manifest with { Stripes = stripes }))
        {
            await DeleteCopiesAsync(copies);
            return 0;
        }

        foreach (var original in originals)
        {
            try
            {
                await _shards.DeleteAsync(nodeId, original.ShardId, CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                // Named by no manifest now: the next pass deletes it as an orphan of the leave.
                LogShardDeleteFailed(original.ShardId.Value, nodeId, ex);
            }
        }

        LogHandedOff(grainKey, originals.Count, nodeId);
        return originals.Count;
    }

    // A node with room that would not hold more shards of the stripe than the most any node holds now, so a node's
    // loss never costs the stripe more than it did before; among those, the default placement's choice.
    private static string PickHandOffTarget(ObjectManifest manifest, StripeManifest stripe, Dictionary<string, int> perNode, IReadOnlyList<PlacementCandidate> candidates, Dictionary<string, long> assigned)
    {
        var most = perNode.Values.Max();
        var eligible = candidates
            .Where(c => !c.Excluded && perNode.GetValueOrDefault(c.NodeId) + 1 <= most)
            .Select(c => c with { FreeBytes = c.FreeBytes - assigned.GetValueOrDefault(c.NodeId) })
            .Where(c => c.FreeBytes >= stripe.ShardLength)
            .ToArray();
        if (eligible.Length == 0)
        {
            throw new InsufficientShardNodesException(
                $"No other live node can take a {stripe.ShardLength}-byte shard of stripe {stripe.Index} of '{manifest.Namespace}/{manifest.Name}' " +
                $"without holding more than {most} of the stripe's {manifest.TotalShards} shards ({candidates.Count} candidate nodes, {candidates.Count(c => !perNode.ContainsKey(c.NodeId))} holding none of them). " +
                "Add a node or free space, then leave again.");
        }

        return DefaultPlacementPolicy.Instance.Place(stripe.Index, 1, stripe.ShardLength, eligible, perNode)[0];
    }

    // The fallback for a bad local copy: the repairer rebuilds every shard not on a candidate node (the leaving node's
    // among them) from k good ones, and the manifest switches only if the version is still visible.
    private async Task<int> RebuildOffAsync(string grainKey, StoredObject version, IReadOnlyList<PlacementCandidate> candidates, CancellationToken cancellationToken)
    {
        var result = await _repairer.RepairAsync(version.Manifest, candidates, badShards: null, cancellationToken);
        if (result.UnrecoverableStripes.Count > 0)
        {
            await DeleteShardsAsync(result.Manifest, except: version.Manifest, CancellationToken.None);
            throw new InsufficientShardNodesException($"'{version.Manifest.Namespace}/{version.Manifest.Name}' has stripes with fewer than {version.Manifest.DataShards} good shards ({string.Join(", ", result.UnrecoverableStripes)}); it cannot be handed over.");
        }

        if (!result.Changed)
        {
            return 0;
        }

        if (!await _grains.GetGrain<IObjectGrain>(grainKey).SwapManifestAsync(version.Manifest, result.Manifest))
        {
            await DeleteShardsAsync(result.Manifest, except: version.Manifest, CancellationToken.None);
            return 0;
        }

        await _repairer.DeleteSupersededAsync(result, CancellationToken.None);
        return result.RepairedShards;
    }

    private async Task DeleteCopiesAsync(List<(string NodeId, ShardId ShardId)> copies)
    {
        foreach (var (node, id) in copies)
        {
            try
            {
                await _shards.DeleteAsync(node, id, CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                LogShardDeleteFailed(id.Value, node, ex);
            }
        }

        copies.Clear();
    }

    [LoggerMessage(EventId = 2150, Level = LogLevel.Information, Message = "Handed {Shards} shard(s) of {Object} off leaving node {NodeId}")]
    private partial void LogHandedOff(string @object, int shards, string nodeId);

    [LoggerMessage(EventId = 2151, Level = LogLevel.Warning, Message = "The leaving node's copy of shard {ShardId} of {Object} is bad; rebuilding the object's shards from the others")]
    private partial void LogHandOffRebuild(string @object, string shardId, Exception exception);
}

/// <summary>What one hand-off pass did.</summary>
/// <param name="Moved">Shards handed to other nodes in the pass.</param>
/// <param name="Remaining">Shards the node still holds after it.</param>
public sealed record HandOffPass(int Moved, int Remaining);
