using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>A shard that could not be fetched, and why.</summary>
internal readonly record struct ShardFetchFailure(ShardPlacement Shard, Exception Error);

/// <summary>
/// Fetches the shards of one stripe into a stripe buffer, hedged: it starts with the data shards it needs and, each time
/// a fetch fails (missing, corrupt, node down), starts another shard until k shards are in (then the caller decodes).
/// </summary>
internal static class StripeFetcher
{
    /// <summary>Fetches shards of <paramref name="stripe"/> into <paramref name="buffer"/> (shard i at <c>i × ShardLength</c>).</summary>
    /// <param name="client">The shard transport.</param>
    /// <param name="objectName">For error messages.</param>
    /// <param name="stripe">The stripe.</param>
    /// <param name="dataShards">k.</param>
    /// <param name="parityShards">m.</param>
    /// <param name="buffer">At least (k + m) × ShardLength bytes.</param>
    /// <param name="firstNeeded">The first data shard the caller needs.</param>
    /// <param name="lastNeeded">The last data shard the caller needs.</param>
    /// <param name="needAnyK">Fetch k shards whatever happens (repair); otherwise just the needed data shards unless one fails.</param>
    /// <param name="skip">Shard indices known to be bad, never fetched.</param>
    /// <param name="failures">Receives every failed fetch.</param>
    /// <param name="shardTimeout">How long one shard may take before it counts as failed.</param>
    /// <param name="cancellationToken">Cancels the fetch.</param>
    /// <returns>Which shard slots hold verified bytes.</returns>
    public static async Task<bool[]> FetchAsync(
        IShardClient client,
        string objectName,
        StripeManifest stripe,
        int dataShards,
        int parityShards,
        Memory<byte> buffer,
        int firstNeeded,
        int lastNeeded,
        bool needAnyK,
        IReadOnlySet<int>? skip,
        List<ShardFetchFailure> failures,
        TimeSpan shardTimeout,
        CancellationToken cancellationToken)
    {
        var total = dataShards + parityShards;
        var shardLength = stripe.ShardLength;
        var byIndex = new ShardPlacement?[total];
        foreach (var p in stripe.Shards)
        {
            if ((uint)p.ShardIndex < (uint)total)
            {
                byIndex[p.ShardIndex] = p;
            }
        }

        // Needed data shards first, then the other data shards (cheaper to decode with), then parity.
        var order = new List<int>(total);
        for (var i = firstNeeded; i <= lastNeeded; i++)
        {
            order.Add(i);
        }

        for (var i = 0; i < total; i++)
        {
            if (i < firstNeeded || i > lastNeeded)
            {
                order.Add(i);
            }
        }

        var neededCount = lastNeeded - firstNeeded + 1;
        var decode = needAnyK;
        var usable = new List<int>(total);
        foreach (var i in order)
        {
            if (byIndex[i] is not null && (skip is null || !skip.Contains(i)))
            {
                usable.Add(i);
            }
            else if (i >= firstNeeded && i <= lastNeeded)
            {
                decode = true;
            }
        }

        var present = new bool[total];
        var presentCount = 0;
        var neededPresent = 0;
        var next = 0;
        Exception? lastError = null;
        // A list, not a dictionary keyed by task: async methods that complete synchronously share one cached task.
        var inFlight = new List<(Task Task, int Index)>(total);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        void TopUp()
        {
            var target = decode ? dataShards : neededCount;
            while (presentCount + inFlight.Count < target && next < usable.Count)
            {
                var index = usable[next++];
                inFlight.Add((FetchOneAsync(client, byIndex[index]!, buffer.Slice(index * shardLength, shardLength), shardTimeout, cts.Token), index));
            }
        }

        TopUp();
        try
        {
            while (decode ? presentCount < dataShards : neededPresent < neededCount)
            {
                if (inFlight.Count == 0)
                {
                    throw new ObjectUnreadableException(objectName, stripe.Index, presentCount, dataShards, lastError);
                }

                var done = await Task.WhenAny(inFlight.Select(f => f.Task));
                var at = inFlight.FindIndex(f => ReferenceEquals(f.Task, done));
                var index = inFlight[at].Index;
                inFlight.RemoveAt(at);
                if (done.IsCompletedSuccessfully)
                {
                    present[index] = true;
                    presentCount++;
                    if (index >= firstNeeded && index <= lastNeeded)
                    {
                        neededPresent++;
                    }
                }
                else
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    lastError = done.Exception?.InnerException ?? new OperationCanceledException();
                    failures.Add(new ShardFetchFailure(byIndex[index]!, lastError));
                    decode = true;
                }

                TopUp();
            }
        }
        finally
        {
            if (inFlight.Count > 0)
            {
                // Slower hedges still write into the buffer: stop them and wait before the buffer is used or returned.
                await cts.CancelAsync();
                try
                {
                    await Task.WhenAll(inFlight.Select(f => f.Task));
                }
                catch (Exception)
                {
                    // Their outcome no longer matters.
                }
            }
        }

        return present;
    }

    private static async Task FetchOneAsync(IShardClient client, ShardPlacement placement, Memory<byte> slot, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await FetchOneCoreAsync(client, placement, slot, timeoutCts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Shard '{placement.ShardId}' on node '{placement.NodeId}' did not arrive within {timeout}.");
        }
    }

    private static async Task FetchOneCoreAsync(IShardClient client, ShardPlacement placement, Memory<byte> slot, CancellationToken cancellationToken)
    {
        await using var stream = await client.OpenReadAsync(placement.NodeId, placement.ShardId, placement.Sha256, cancellationToken);
        var filled = 0;
        while (filled < slot.Length)
        {
            var n = await stream.ReadAsync(slot[filled..], cancellationToken);
            if (n == 0)
            {
                throw new ShardCorruptException(placement.ShardId, placement.Sha256, null, $"{filled} bytes instead of {slot.Length}");
            }

            filled += n;
        }

        // One more read reaches the end, where the stream checks the hash (and catches a shard that is too long).
        if (await stream.ReadAsync(new byte[1], cancellationToken) != 0)
        {
            throw new ShardCorruptException(placement.ShardId, placement.Sha256, null, $"longer than {slot.Length} bytes");
        }
    }
}
