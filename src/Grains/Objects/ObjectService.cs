using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Persistence.Sql;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Stores, reads, lists, deletes and repairs objects: the storage pipeline joined to the object grains and the node registry.</summary>
public sealed partial class ObjectService
{
    /// <summary>The account of unsigned reads (every change is signed, so this account owns nothing new).</summary>
    public const string AnonymousAccount = "anonymous";

    private readonly IGrainFactory _grains;
    private readonly IGrainStateQuery _query;
    private readonly NodeDirectory _nodes;
    private readonly StaticShardNodeResolver _addresses;
    private readonly IShardClient _shards;
    private readonly ObjectWriter _writer;
    private readonly ObjectReader _reader;
    private readonly ObjectRepairer _repairer;
    private readonly ShardHolderReputation _reputation;
    private readonly StoragePolicyEvaluator _policies;
    private readonly StoragePolicyOptions _policyOptions;
    private readonly TimeSpan _orphanGracePeriod;
    private readonly TimeProvider _time;
    private readonly ILogger<ObjectService> _logger;

    /// <summary>Creates the service.</summary>
    public ObjectService(
        IGrainFactory grains,
        IGrainStateQuery query,
        NodeDirectory nodes,
        StaticShardNodeResolver addresses,
        IShardClient shards,
        ObjectWriter writer,
        ObjectReader reader,
        ObjectRepairer repairer,
        ShardHolderReputation reputation,
        StoragePolicyEvaluator policyEvaluator,
        IOptions<StoragePolicyOptions> policies,
        IOptions<ObjectStorageOptions> objectOptions,
        [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
        ILogger<ObjectService> logger)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(objectOptions);
        _orphanGracePeriod = objectOptions.Value.OrphanGracePeriod;
        _policyOptions = policies.Value;
        _policies = policyEvaluator;
        _grains = grains;
        _query = query;
        _nodes = nodes;
        _addresses = addresses;
        _shards = shards;
        _writer = writer;
        _reader = reader;
        _repairer = repairer;
        _reputation = reputation;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Checks the namespace's policy and the quotas, streams <paramref name="body"/> into shards on live nodes, charges
    /// the quotas and commits the manifest: only then is the object visible. A write that is refused, fails or is cut
    /// off leaves nothing visible, nothing charged, and its shards are removed.
    /// </summary>
    /// <param name="key">Where to store the object.</param>
    /// <param name="write">Owner, content type and coding.</param>
    /// <param name="declaredLength">The body's length when the client said it (refused at once when too large).</param>
    /// <param name="body">The bytes.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The committed version.</returns>
    /// <exception cref="ObjectPolicyException">The policy or a quota refuses the write.</exception>
    /// <exception cref="Ledger.StorageOwedException">The owner owes storage charges its balance does not cover.</exception>
    public async Task<StoredObject> PutAsync(ObjectKey key, ObjectWriteOptions write, long? declaredLength, Stream body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        var current = await _grains.GetGrain<IObjectGrain>(key.GrainKey).GetAsync();
        if (current is not null && !string.Equals(current.Owner, write.Owner, StringComparison.Ordinal))
        {
            throw new ObjectPolicyException(new PolicyDecision(PolicyOutcome.Deny, $"Object '{key.Namespace}/{key.Name}' belongs to {current.Owner}; only its owner may replace it."));
        }

        await RefuseWhileStorageOwedAsync(write.Owner);
        var replaced = current?.Manifest.Size ?? 0;
        var accountUsage = await Usage(StorageUsageGrain.AccountKey(write.Owner)).GetAsync();
        var namespaceUsage = await Usage(StorageUsageGrain.NamespaceKey(key.Namespace)).GetAsync();
        var decision = _policies.Evaluate(new StorageAccessRequest(new StoragePrincipal(write.Owner) { TaskId = write.TaskId, ServiceId = write.ServiceId }, key.Namespace, key.Name, ObjectOperations.Write)
        {
            ContentType = write.ContentType,
            Size = declaredLength,
            AccountUsedBytes = accountUsage.Bytes,
            NamespaceUsedBytes = namespaceUsage.Bytes,
            ReplacedSize = replaced,
        });
        if (!decision.IsAllowed)
        {
            throw new ObjectPolicyException(decision);
        }

        var candidates = await PlacementCandidatesAsync(cancellationToken);
        var request = new ObjectWriteRequest(key.Namespace, key.Name)
        {
            ContentType = write.ContentType,
            DataShards = write.DataShards ?? decision.Coding?.DataShards,
            ParityShards = write.ParityShards ?? decision.Coding?.ParityShards,
            MaxSize = Math.Min(write.MaxSize ?? long.MaxValue, decision.MaxObjectSize),
            ExpectedSha256 = write.ExpectedSha256,
        };
        ObjectManifest manifest;
        try
        {
            manifest = await _writer.WriteAsync(request, body, candidates, cancellationToken);
        }
        catch (ObjectTooLargeException ex) when (declaredLength is null || declaredLength <= decision.MaxObjectSize)
        {
            // The body ran past the room left under a quota or the size limit while streaming.
            throw new ObjectPolicyException(new PolicyDecision(PolicyOutcome.TooLarge, $"The object is larger than the {ex.MaxSize} bytes allowed in namespace '{key.Namespace}' for account '{write.Owner}'.") { MaxObjectSize = ex.MaxSize });
        }

        // Charge both quotas atomically in their own grains; the version being replaced counts as freed.
        if (!await ChargeAsync(key, write.Owner, manifest.Size, replaced))
        {
            await DeleteShardsAsync(manifest, CancellationToken.None);
            throw new ObjectPolicyException(new PolicyDecision(PolicyOutcome.Deny, $"A quota of account '{write.Owner}' or namespace '{key.Namespace}' would be exceeded by {manifest.Size} bytes."));
        }

        var version = new StoredObject(Guid.NewGuid().ToString("N"), write.Owner, manifest);
        var objectGrain = _grains.GetGrain<IObjectGrain>(key.GrainKey);
        StoredObject? previous;
        try
        {
            previous = await objectGrain.CommitAsync(version);
        }
        catch (Exception ex)
        {
            // A failed call is not a failed commit: the silo may have stored the manifest and died before answering.
            // Undo the write only when the object grain says it does not hold this version.
            switch (await HoldsVersionAsync(objectGrain, version.VersionId))
            {
                case true:
                    // Committed. The version it replaced is unknown: its shards are left to the orphan pass.
                    LogCommitReplyLost(key.GrainKey, ex);
                    return version;
                case false:
                    await RefundAsync(key.Namespace, write.Owner, manifest.Size);
                    await DeleteShardsAsync(manifest, CancellationToken.None);
                    throw;
                default:
                    // Unknown: keep the shards (the orphan pass reclaims them if the commit did not happen).
                    throw;
            }
        }

        if (previous is not null)
        {
            await RefundAsync(key.Namespace, previous.Owner, previous.Manifest.Size);
            await DeleteShardsAsync(previous.Manifest, CancellationToken.None);
        }

        return version;
    }

    /// <summary>An account that owes storage charges pays them now if its balance covers them, else its put is refused (docs/ledger.md).</summary>
    /// <exception cref="Ledger.StorageOwedException">It owes more than its balance.</exception>
    private async Task RefuseWhileStorageOwedAsync(string owner)
    {
        // The read interleaves with the account's work and is all a put costs while nothing is owed.
        var account = _grains.GetGrain<Interfaces.Ledger.IAccountGrain>(owner);
        if ((await account.GetAsync()).StorageOwed > 0 && await account.PayStorageOwedAsync(_time.GetUtcNow()) is { StorageOwed: > 0 } owing)
        {
            throw new Ledger.StorageOwedException(owing);
        }
    }

    /// <summary>Checks that <paramref name="account"/> may perform <paramref name="operation"/> in a namespace.</summary>
    /// <exception cref="ObjectPolicyException">The namespace's policy refuses it.</exception>
    public void Authorize(string @namespace, string? name, string account, ObjectOperations operation) =>
        Authorize(@namespace, name, new StoragePrincipal(account), operation);

    /// <summary>Checks that <paramref name="principal"/> (an account, acting as a task of a service) may perform <paramref name="operation"/>.</summary>
    /// <exception cref="ObjectPolicyException">The namespace's policy refuses it.</exception>
    public void Authorize(string @namespace, string? name, StoragePrincipal principal, ObjectOperations operation)
    {
        var decision = _policies.Evaluate(new StorageAccessRequest(principal, @namespace, name ?? "", operation));
        if (!decision.IsAllowed)
        {
            throw new ObjectPolicyException(decision);
        }
    }

    /// <summary>What an account or a namespace stores now.</summary>
    public Task<StorageUsage> UsageAsync(string usageKey) => Usage(usageKey).GetAsync();

    /// <summary>The visible version of an object, or null.</summary>
    /// <remarks>
    /// Reads the stored state, not the grain: a commit is stored before it returns, and a read then needs no live
    /// activation, so objects stay readable while a dead silo's grains wait to be placed elsewhere.
    /// </remarks>
    public async Task<StoredObject?> GetAsync(ObjectKey key) =>
        (await _query.GetAsync<ObjectGrainState>(GrainStates.Object, key.GrainKey))?.State.Current;

    /// <summary>Streams an object, or a byte range of it, verifying shard hashes and decoding only when a data shard is missing.</summary>
    public async Task<ObjectReadResult> ReadAsync(StoredObject version, Stream destination, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        await ResolveAddressesAsync(version.Manifest, cancellationToken);
        return await _reader.ReadAsync(version.Manifest, destination, offset, length, cancellationToken);
    }

    /// <summary>Deletes an object and reclaims its shards; returns the removed version, or null when there was none.</summary>
    public async Task<StoredObject?> DeleteAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var removed = await _grains.GetGrain<IObjectGrain>(key.GrainKey).DeleteAsync();
        if (removed is not null)
        {
            await RefundAsync(key.Namespace, removed.Owner, removed.Manifest.Size);
            await ResolveAddressesAsync(removed.Manifest, cancellationToken);
            await DeleteShardsAsync(removed.Manifest, CancellationToken.None);
        }

        return removed;
    }

    /// <summary>Lists a namespace's objects whose names start with <paramref name="prefix"/>, in name order, after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<StoredObject>> ListAsync(string @namespace, string? prefix, string? after, int limit, CancellationToken cancellationToken)
    {
        var keyPrefix = @namespace + "/" + (prefix ?? "");
        var afterKey = after is null ? null : @namespace + "/" + after;
        var result = new List<StoredObject>(limit);

        // Deleted objects keep an empty row; page on until the page is full or the rows run out.
        while (result.Count < limit)
        {
            var page = await _query.ListAsync<ObjectGrainState>(GrainStates.Object, keyPrefix, afterKey, limit, cancellationToken);
            result.AddRange(page.Where(e => e.State.Current is not null).Select(e => e.State.Current!).Take(limit - result.Count));
            if (page.Count < limit)
            {
                break;
            }

            afterKey = page[^1].Key;
        }

        return result;
    }

    /// <summary>How many healthy shards each stripe of an object has, counting shards on dead nodes or with bad bytes as unhealthy.</summary>
    public async Task<ObjectHealth> HealthAsync(StoredObject version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var live = await LiveNodeIdsAsync(cancellationToken);
        var bad = await _repairer.ScrubAsync(version.Manifest, live, cancellationToken);
        return ObjectHealth.Evaluate(version.Manifest, live, bad);
    }

    /// <summary>
    /// One repair pass over every object: scrub its shards, rebuild those on dead nodes or with bad bytes onto live
    /// nodes, and swap in the repaired manifest unless a newer write came first. Then delete the orphans: shards on
    /// live nodes that no manifest names and that are older than the orphan grace period.
    /// </summary>
    public async Task<RepairPassResult> RepairAllAsync(CancellationToken cancellationToken)
    {
        var listed = await _nodes.ListAsync(cancellationToken);
        UpdateAddresses(listed);
        var live = listed.Where(n => n.Alive).Select(n => n.Node.NodeId).ToHashSet(StringComparer.Ordinal);
        var candidates = await CandidatesAsync(listed, cancellationToken);

        // Shards are listed BEFORE the manifests are walked: a shard whose manifest is committed after the walk passed
        // its key was written before that commit, so it is younger than the grace period (longer than any write) and
        // not among these; a shard old enough to be listed here was committed (if ever) before the walk started.
        var oldShards = await ListShardsOlderThanGraceAsync(live, cancellationToken);

        // Every shard id some manifest names. A HashSet of ids (about 60 bytes each) is fine at this cluster's scale
        // (millions of shards at most); at a larger one this would become a sorted merge against the node listings.
        var named = new HashSet<ShardId>();
        int checkedObjects = 0, repairedObjects = 0, repairedShards = 0, unrecoverable = 0;
        string? after = null;
        while (true)
        {
            var page = await _query.ListAsync<ObjectGrainState>(GrainStates.Object, keyPrefix: null, afterKey: after, limit: 200, cancellationToken);
            foreach (var entry in page)
            {
                if (entry.State.Current is not { } version)
                {
                    continue;
                }

                checkedObjects++;
                foreach (var shard in version.Manifest.AllShards)
                {
                    named.Add(shard.ShardId);
                }

                try
                {
                    var bad = await _repairer.ScrubAsync(version.Manifest, live, cancellationToken);
                    if (ObjectHealth.Evaluate(version.Manifest, live, bad).IsFullyHealthy)
                    {
                        continue;
                    }

                    var result = await _repairer.RepairAsync(version.Manifest, candidates, bad, cancellationToken);
                    unrecoverable += result.UnrecoverableStripes.Count;
                    if (!result.Changed)
                    {
                        continue;
                    }

                    if (await _grains.GetGrain<IObjectGrain>(entry.Key).SwapManifestAsync(version.Manifest, result.Manifest))
                    {
                        await _repairer.DeleteSupersededAsync(result, cancellationToken);
                        repairedObjects++;
                        repairedShards += result.RepairedShards;
                        LogRepaired(entry.Key, result.RepairedShards);
                    }
                    else
                    {
                        // A newer version, or a leaving node's hand-off, came first: the rebuilt shards belong to nothing.
                        await DeleteShardsAsync(result.Manifest, except: version.Manifest, cancellationToken);
                    }
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException)
                {
                    unrecoverable++;
                    LogRepairFailed(entry.Key, ex);
                }
            }

            if (page.Count < 200)
            {
                break;
            }

            after = page[^1].Key;
        }

        var orphansDeleted = await DeleteOrphansAsync(oldShards, named, cancellationToken);
        return new RepairPassResult(checkedObjects, repairedObjects, repairedShards, unrecoverable, _time.GetUtcNow()) { OrphansDeleted = orphansDeleted };
    }

    // The shards of each live node stored before now minus the grace period; a node that cannot be listed is skipped
    // this pass (its orphans wait for the next one).
    private async Task<List<(string NodeId, ShardId ShardId)>> ListShardsOlderThanGraceAsync(IEnumerable<string> liveNodes, CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _orphanGracePeriod;
        var old = new List<(string, ShardId)>();
        foreach (var nodeId in liveNodes)
        {
            try
            {
                ShardId? after = null;
                while (true)
                {
                    var page = await _shards.ListAsync(nodeId, after, ShardListing.MaxPageSize, cancellationToken);
                    old.AddRange(page.Where(s => s.CreatedUtc < cutoff).Select(s => (nodeId, s.Id)));
                    if (page.Count < ShardListing.MaxPageSize)
                    {
                        break;
                    }

                    after = page[^1].Id;
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                old.RemoveAll(s => s.Item1 == nodeId);
                LogShardListFailed(nodeId, ex);
            }
        }

        return old;
    }

    private async Task<int> DeleteOrphansAsync(List<(string NodeId, ShardId ShardId)> oldShards, HashSet<ShardId> named, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var (nodeId, shardId) in oldShards)
        {
            if (named.Contains(shardId))
            {
                continue;
            }

            try
            {
                if (await _shards.DeleteAsync(nodeId, shardId, cancellationToken))
                {
                    deleted++;
                    LogOrphanDeleted(shardId.Value, nodeId);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                LogShardDeleteFailed(shardId.Value, nodeId, ex);
            }
        }

        return deleted;
    }

    private IStorageUsageGrain Usage(string key) => _grains.GetGrain<IStorageUsageGrain>(key);

    /// <summary>Whether the object grain holds <paramref name="versionId"/> now; null when it cannot be asked either.</summary>
    private static async Task<bool?> HoldsVersionAsync(IObjectGrain grain, string versionId)
    {
        try
        {
            return string.Equals((await grain.GetAsync())?.VersionId, versionId, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    private async Task<bool> ChargeAsync(ObjectKey key, string account, long size, long replaced)
    {
        var namespaceQuota = _policies.FindPolicy(key.Namespace)?.QuotaBytes;
        var accountQuota = _policyOptions.AccountQuotas.FirstOrDefault(q => string.Equals(q.Account, account, StringComparison.Ordinal))?.QuotaBytes
            ?? (_policyOptions.DefaultAccountQuotaBytes > 0 ? _policyOptions.DefaultAccountQuotaBytes : (long?)null);
        if (!await Usage(StorageUsageGrain.NamespaceKey(key.Namespace)).TryChargeAsync(size, 1, namespaceQuota + replaced))
        {
            return false;
        }

        if (!await Usage(StorageUsageGrain.AccountKey(account)).TryChargeAsync(size, 1, accountQuota + replaced))
        {
            await Usage(StorageUsageGrain.NamespaceKey(key.Namespace)).RefundAsync(size, 1);
            return false;
        }

        return true;
    }

    private async Task RefundAsync(string @namespace, string account, long size)
    {
        await Usage(StorageUsageGrain.NamespaceKey(@namespace)).RefundAsync(size, 1);
        await Usage(StorageUsageGrain.AccountKey(account)).RefundAsync(size, 1);
    }

    private async Task<IReadOnlyList<PlacementCandidate>> PlacementCandidatesAsync(CancellationToken cancellationToken)
    {
        var listed = await _nodes.ListAsync(cancellationToken);
        UpdateAddresses(listed);
        return await CandidatesAsync(listed, cancellationToken);
    }

    // Live nodes that take work; those the scheduler would give no job (reputation below the minimum) keep their
    // shards but get no new ones, so a node caught altering shards stops receiving them, as a liar stops getting jobs.
    private async Task<PlacementCandidate[]> CandidatesAsync(IReadOnlyList<NodeStatus> listed, CancellationToken cancellationToken)
    {
        var live = listed.Where(n => n.Alive && n.Node.AcceptsWork).ToArray();
        var excluded = await _reputation.BelowMinimumAsync(live.Select(n => n.Node.NodeId), cancellationToken);
        return [.. live.Select(n => new PlacementCandidate(
            n.Node.NodeId,
            Math.Max(0, n.Node.Resources.StorageBytes - n.Node.UsedStorageBytes),
            Excluded: excluded.Contains(n.Node.NodeId)))];
    }

    private async Task<HashSet<string>> LiveNodeIdsAsync(CancellationToken cancellationToken)
    {
        var listed = await _nodes.ListAsync(cancellationToken);
        UpdateAddresses(listed);
        return listed.Where(n => n.Alive).Select(n => n.Node.NodeId).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The addresses of the nodes holding <paramref name="manifest"/>'s shards, from the node directory's cache (which the
    /// scheduler refreshes every second); the registry is listed again only for a node the cache does not know yet.
    /// </summary>
    private async ValueTask ResolveAddressesAsync(ObjectManifest manifest, CancellationToken cancellationToken)
    {
        string? previous = null;
        foreach (var shard in manifest.AllShards)
        {
            if (string.Equals(shard.NodeId, previous, StringComparison.Ordinal))
            {
                continue;
            }

            previous = shard.NodeId;
            if (await _nodes.GetAsync(shard.NodeId, cancellationToken) is { } node)
            {
                if (node is { Edge: true, Relayed: false })
                {
                    // Its host silo's address is among the listed nodes'.
                    UpdateAddresses(await _nodes.ListAsync(cancellationToken));
                }
                else if (Uri.TryCreate(node.Address, UriKind.Absolute, out var uri))
                {
                    _addresses.Set(node.NodeId, uri);
                }
            }
        }
    }

    // Other silos' shard endpoints are found at the address their nodes announce. An edge node's address is where its
    // peer connects from: its shards are served by the silo that hosts it, at that silo's nodes' address; a standalone
    // gateway's edge node announces the gateway's shard endpoints as its address.
    private void UpdateAddresses(IReadOnlyList<NodeStatus> listed)
    {
        foreach (var status in listed)
        {
            if ((!status.Node.Edge || status.Node.Relayed) && Uri.TryCreate(status.Node.Address, UriKind.Absolute, out var uri))
            {
                _addresses.Set(status.Node.NodeId, uri);
            }
        }

        foreach (var status in listed)
        {
            if (status.Node is { Edge: true, Relayed: false }
                && listed.FirstOrDefault(s => !s.Node.Edge && string.Equals(s.Node.SiloId, status.Node.SiloId, StringComparison.Ordinal)) is { } host
                && Uri.TryCreate(host.Node.Address, UriKind.Absolute, out var hostUri))
            {
                _addresses.Set(status.Node.NodeId, hostUri);
            }
        }
    }

    private Task DeleteShardsAsync(ObjectManifest manifest, CancellationToken cancellationToken) =>
        DeleteShardsAsync(manifest, except: null, cancellationToken);

    // Reclaiming is best effort: a shard that cannot be deleted now (its node is down) is an orphan, never referenced
    // by a manifest again, that a later repair pass deletes once it is older than the orphan grace period.
    private async Task DeleteShardsAsync(ObjectManifest manifest, ObjectManifest? except, CancellationToken cancellationToken)
    {
        var keep = except?.AllShards.Select(s => s.ShardId).ToHashSet() ?? [];
        foreach (var shard in manifest.AllShards)
        {
            if (keep.Contains(shard.ShardId))
            {
                continue;
            }

            try
            {
                await _shards.DeleteAsync(shard.NodeId, shard.ShardId, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                LogShardDeleteFailed(shard.ShardId.Value, shard.NodeId, ex);
            }
        }
    }

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "The commit of {Object} failed in flight but was stored; the write stands")]
    private partial void LogCommitReplyLost(string @object, Exception exception);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Repaired {Shards} shard(s) of {Object}")]
    private partial void LogRepaired(string @object, int shards);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Repair of {Object} failed")]
    private partial void LogRepairFailed(string @object, Exception exception);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "Could not delete shard {ShardId} on {NodeId}; left as an orphan")]
    private partial void LogShardDeleteFailed(string shardId, string nodeId, Exception exception);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "Could not list the shards of {NodeId}; its orphans wait for the next pass")]
    private partial void LogShardListFailed(string nodeId, Exception exception);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "Deleted orphan shard {ShardId} on {NodeId}")]
    private partial void LogOrphanDeleted(string shardId, string nodeId);
}

/// <summary>How to write one object.</summary>
/// <param name="Owner">The account charged for the object.</param>
/// <param name="ContentType">The media type served back on reads.</param>
public sealed record ObjectWriteOptions(string Owner, string ContentType)
{
    /// <summary>Data shards per stripe; null for the default.</summary>
    public int? DataShards { get; init; }

    /// <summary>Parity shards per stripe; null for the default.</summary>
    public int? ParityShards { get; init; }

    /// <summary>The most bytes the body may have; the write fails with <see cref="ObjectTooLargeException"/> past it.</summary>
    public long? MaxSize { get; init; }

    /// <summary>The task the writer acts as (a task's storage proxy), for task-isolated namespaces.</summary>
    public string? TaskId { get; init; }

    /// <summary>The service the writer acts for (its service-shared namespace's owner).</summary>
    public string? ServiceId { get; init; }

    /// <summary>The SHA-256 (hex) the bytes must have, e.g. the one a signed upload announced; the write fails with <see cref="ObjectCorruptException"/> before committing otherwise.</summary>
    public string? ExpectedSha256 { get; init; }
}

/// <summary>A storage policy or quota refused a request; <see cref="Decision"/> says why and which status (403 or 413) fits.</summary>
public sealed class ObjectPolicyException(PolicyDecision decision) : Exception(decision?.Reason)
{
    /// <summary>The refusal.</summary>
    public PolicyDecision Decision { get; } = decision ?? throw new ArgumentNullException(nameof(decision));
}

/// <summary>What one repair pass did.</summary>
/// <param name="CheckedObjects">Objects looked at.</param>
/// <param name="RepairedObjects">Objects whose manifest was repaired.</param>
/// <param name="RepairedShards">Shards rebuilt.</param>
/// <param name="Unrecoverable">Stripes (or objects, on errors) that could not be repaired this pass.</param>
/// <param name="FinishedAt">When the pass ended.</param>
public sealed record RepairPassResult(int CheckedObjects, int RepairedObjects, int RepairedShards, int Unrecoverable, DateTimeOffset FinishedAt)
{
    /// <summary>Shards deleted because no manifest named them and they were older than the orphan grace period.</summary>
    public int OrphansDeleted { get; init; }
}
