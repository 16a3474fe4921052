using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>
/// Streams an object of any size into erasure-coded shards on cluster nodes and returns its manifest.
/// </summary>
/// <remarks>
/// <para>The source is cut into stripes of k × shard size bytes. Each stripe is Reed-Solomon coded into k + m shards,
/// placed by the <see cref="IPlacementPolicy"/> and written to the nodes in parallel. Reading and coding the next stripe
/// overlaps with writing the previous ones, and the writes of several stripes overlap; stripe buffers come from a
/// <see cref="StripeBufferPool"/> and at most <see cref="StorageOptions.StripesInFlight"/> are held per write (one being
/// read, the others being written), so memory does not grow with object size.</para>
/// <para>A shard whose node fails is retried once on another node. When the write fails or is cancelled, every shard it
/// stored is deleted and the exception propagates: nothing is visible, since visibility is the caller committing the
/// returned manifest.</para>
/// </remarks>
public sealed class ObjectWriter
{
    private const int MaxPutRetries = 1;

    private readonly IShardClient _client;
    private readonly StripeBufferPool _pool;
    private readonly IPlacementPolicy _placement;
    private readonly StorageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ICorruptShardObserver? _corrupt;

    /// <summary>Creates a writer.</summary>
    /// <param name="client">The shard transport.</param>
    /// <param name="pool">The stripe buffer pool; default a private pool.</param>
    /// <param name="placement">The placement policy; default <see cref="DefaultPlacementPolicy"/>.</param>
    /// <param name="options">Coding defaults and limits; default <see cref="StorageOptions"/> defaults.</param>
    /// <param name="timeProvider">The clock for manifest times.</param>
    /// <param name="logger">Where to report retries and aborted writes.</param>
    /// <param name="corrupt">Told of each node that answered a put with the hash of other bytes than those sent.</param>
    public ObjectWriter(IShardClient client, StripeBufferPool? pool = null, IPlacementPolicy? placement = null, StorageOptions? options = null, TimeProvider? timeProvider = null, ILogger<ObjectWriter>? logger = null, ICorruptShardObserver? corrupt = null)
    {
        _corrupt = corrupt;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _pool = pool ?? new StripeBufferPool();
        _placement = placement ?? DefaultPlacementPolicy.Instance;
        _options = options ?? new StorageOptions();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Reads <paramref name="source"/> to its end and stores it as coded shards on <paramref name="candidates"/>.</summary>
    /// <param name="request">Names, content type and coding.</param>
    /// <param name="source">The object bytes.</param>
    /// <param name="candidates">The live nodes that may take shards, with their free space.</param>
    /// <param name="cancellationToken">Cancels the write; its shards are deleted.</param>
    /// <returns>The manifest to commit.</returns>
    /// <exception cref="ObjectTooLargeException">The source is longer than the maximum size.</exception>
    /// <exception cref="ObjectCorruptException">The content does not hash to <see cref="ObjectWriteRequest.ExpectedSha256"/>.</exception>
    /// <exception cref="InsufficientShardNodesException">The candidates cannot take the shards.</exception>
    public async Task<ObjectManifest> WriteAsync(ObjectWriteRequest request, Stream source, IReadOnlyList<PlacementCandidate> candidates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentException.ThrowIfNullOrEmpty(request.Namespace);
        ArgumentException.ThrowIfNullOrEmpty(request.Name);
        var k = request.DataShards ?? _options.DataShards;
        var m = request.ParityShards ?? _options.ParityShards;
        var shardSize = request.ShardSize ?? _options.ShardSize;
        var maxSize = request.MaxSize ?? _options.MaxObjectSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(shardSize, 1, nameof(request));
        if ((long)(k + m) * shardSize > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(request), $"A stripe of ({k} + {m}) × {shardSize} bytes does not fit in one buffer.");
        }

        var excluded = 0;
        if (candidates.Any(c => c.Excluded))
        {
            excluded = candidates.Count(c => c.Excluded);
            candidates = [.. candidates.Where(c => !c.Excluded)];
        }

        if (candidates.Count == 0)
        {
            throw new InsufficientShardNodesException(excluded == 0
                ? "No live node can take shards."
                : $"No live node can take shards: the {excluded} live node(s) are excluded from placement (their reputation is below the minimum).");
        }

        var job = new WriteJob(this, request, k, m, shardSize, maxSize, candidates);
        return await job.RunAsync(source, cancellationToken);
    }

    private readonly record struct EncodedStripe(int Index, int Length, int ShardLength, byte[] Buffer, int RentedSize, string[] Hashes);

    private sealed class WriteJob(ObjectWriter owner, ObjectWriteRequest request, int k, int m, int shardSize, long maxSize, IReadOnlyList<PlacementCandidate> candidates)
    {
        private readonly ConcurrentQueue<(string Node, ShardId Id)> _written = new();
        private readonly ConcurrentDictionary<string, byte> _failedNodes = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, long> _assignedBytes = new(StringComparer.Ordinal);
        private readonly Channel<EncodedStripe> _stripes = Channel.CreateUnbounded<EncodedStripe>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly SemaphoreSlim _slots = new(Math.Max(2, owner._options.StripesInFlight));
        private readonly int _total = k + m;
        private long _size;
        private string _sha256 = "";

        public async Task<ObjectManifest> RunAsync(Stream source, CancellationToken cancellationToken)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var producer = Task.Run(() => GuardAsync(ProduceAsync(source, cts.Token), cts), CancellationToken.None);
            var consumer = Task.Run(() => GuardAsync(ConsumeAsync(cts), cts), CancellationToken.None);
            try
            {
                await Task.WhenAll(producer, consumer);
                var stripes = await consumer;
                if (request.ExpectedSha256 is { } expected && !string.Equals(expected, _sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ObjectCorruptException($"'{request.Namespace}/{request.Name}' hashes to {_sha256}, not the announced {expected}.");
                }

                return new ObjectManifest(request.Namespace, request.Name, _size, request.ContentType, _sha256, k, m, shardSize, stripes, owner._time.GetUtcNow());
            }
            catch (Exception e)
            {
                StorageLog.ObjectWriteAborted(owner._logger, $"'{request.Namespace}/{request.Name}'", _written.Count, e);
                await cts.CancelAsync();
                await Task.WhenAll(producer.ContinueWith(static _ => { }, TaskScheduler.Default), consumer.ContinueWith(static _ => { }, TaskScheduler.Default));
                while (_stripes.Reader.TryRead(out var left))
                {
                    owner._pool.Return(left.Buffer, left.RentedSize);
                }

                await DeleteWrittenAsync();
                throw;
            }
        }

        private static async Task<T> GuardAsync<T>(Task<T> task, CancellationTokenSource cts)
        {
            try
            {
                return await task;
            }
            catch
            {
                // One side failing stops the other.
                await cts.CancelAsync();
                throw;
            }
        }

        private async Task<int> ProduceAsync(Stream source, CancellationToken cancellationToken)
        {
            try
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var codec = CodecCache.Get(k, m);
                var stripeData = k * shardSize;
                var rentSize = _total * shardSize;
                for (var index = 0; ; index++)
                {
                    await _slots.WaitAsync(cancellationToken);
                    var buffer = await RentAsync(rentSize, cancellationToken);
                    var handedOver = false;
                    try
                    {
                        var n = await source.ReadAtLeastAsync(buffer.AsMemory(0, stripeData), stripeData, throwOnEndOfStream: false, cancellationToken);
                        if (n == 0)
                        {
                            break;
                        }

                        _size += n;
                        if (_size > maxSize)
                        {
                            throw new ObjectTooLargeException(maxSize);
                        }

                        hash.AppendData(buffer, 0, n);
                        var shardLength = n == stripeData ? shardSize : (n + k - 1) / k;
                        var hashes = Encode(codec, buffer, n, shardLength);
                        await _stripes.Writer.WriteAsync(new EncodedStripe(index, n, shardLength, buffer, rentSize, hashes), cancellationToken);
                        handedOver = true;
                        if (n < stripeData)
                        {
                            break;
                        }
                    }
                    finally
                    {
                        if (!handedOver)
                        {
                            owner._pool.Return(buffer, rentSize);
                            _slots.Release();
                        }
                    }
                }

                _sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
                _stripes.Writer.TryComplete();
                return 0;
            }
            catch (Exception e)
            {
                _stripes.Writer.TryComplete(e);
                throw;
            }
        }

        private async Task<byte[]> RentAsync(int size, CancellationToken cancellationToken)
        {
            try
            {
                return await owner._pool.RentAsync(size, cancellationToken);
            }
            catch
            {
                _slots.Release();
                throw;
            }
        }

        [SkipLocalsInit]
        private string[] Encode(Codec.ReedSolomonCodec codec, byte[] buffer, int length, int shardLength)
        {
            // Data shards are contiguous in the buffer, so the bytes read are already in place; zero the padding.
            buffer.AsSpan(length, (k * shardLength) - length).Clear();
            var data = new ReadOnlyMemory<byte>[k];
            var parity = new Memory<byte>[m];
            for (var i = 0; i < k; i++)
            {
                data[i] = buffer.AsMemory(i * shardLength, shardLength);
            }

            for (var i = 0; i < m; i++)
            {
                parity[i] = buffer.AsMemory((k + i) * shardLength, shardLength);
            }

            codec.Encode(data, parity);
            var hashes = new string[_total];
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            for (var i = 0; i < _total; i++)
            {
                SHA256.HashData(buffer.AsSpan(i * shardLength, shardLength), digest);
                hashes[i] = Convert.ToHexStringLower(digest);
            }

            return hashes;
        }

        private async Task<List<StripeManifest>> ConsumeAsync(CancellationTokenSource cts)
        {
            // Stripes are written concurrently: one stripe's shard puts (each ending in an fsync) leave the disk idle
            // between syncs, so overlapping several stripes keeps it busy. The slots bound how many are in flight, since
            // the producer takes a slot before it reads a stripe and a write gives it back when its puts are done.
            var writes = new List<Task<StripeManifest>>();
            Exception? readError = null;
            try
            {
                await foreach (var stripe in _stripes.Reader.ReadAllAsync(cts.Token))
                {
                    if (LiveCandidates().Count < _total)
                    {
                        // Some node takes several shards of this stripe. A store spreads the shards of one stripe over
                        // its volumes only when they arrive together, while no other stripe's puts finish in between,
                        // so such stripes are written one at a time.
                        await Task.WhenAll(writes).ContinueWith(static _ => { }, TaskScheduler.Default);
                    }

                    writes.Add(WriteAndReturnAsync(stripe, cts));
                }
            }
            catch (Exception e)
            {
                readError = e;
            }

            // Never leave with puts still reading from stripe buffers: the caller deletes what was written only after
            // this returns, and a put still running then could store a shard nobody deletes.
            await Task.WhenAll(writes).ContinueWith(static _ => { }, TaskScheduler.Default);

            // The first failed stripe cancelled the rest; report its error, not the cancellations that followed.
            if (writes.FirstOrDefault(w => w.IsFaulted) is { } failed)
            {
                ExceptionDispatchInfo.Throw(failed.Exception!.InnerException!);
            }

            if (readError is not null)
            {
                ExceptionDispatchInfo.Throw(readError);
            }

            var stripes = new List<StripeManifest>(writes.Count);
            foreach (var write in writes)
            {
                stripes.Add(await write);
            }

            return stripes;
        }

        private async Task<StripeManifest> WriteAndReturnAsync(EncodedStripe stripe, CancellationTokenSource cts)
        {
            try
            {
                return await WriteStripeAsync(stripe, cts.Token);
            }
            catch
            {
                // The first failed stripe stops the others (and the producer) at once instead of after they finish.
                await cts.CancelAsync();
                throw;
            }
            finally
            {
                owner._pool.Return(stripe.Buffer, stripe.RentedSize);
                _slots.Release();
            }
        }

        private async Task<StripeManifest> WriteStripeAsync(EncodedStripe stripe, CancellationToken cancellationToken)
        {
            var nodes = owner._placement.Place(stripe.Index, _total, stripe.ShardLength, LiveCandidates()).ToArray();
            foreach (var node in nodes)
            {
                _assignedBytes.AddOrUpdate(node, stripe.ShardLength, (_, v) => v + stripe.ShardLength);
            }

            var places = new ShardPlacement[_total];
            var puts = new Task[_total];
            for (var i = 0; i < _total; i++)
            {
                puts[i] = PutShardAsync(stripe, i, nodes, places, cancellationToken);
            }

            await Task.WhenAll(puts);
            return new StripeManifest(stripe.Index, stripe.Length, stripe.ShardLength, places);
        }

        private async Task PutShardAsync(EncodedStripe stripe, int index, string[] nodes, ShardPlacement[] places, CancellationToken cancellationToken)
        {
            var memory = stripe.Buffer.AsMemory(index * stripe.ShardLength, stripe.ShardLength);
            var hash = stripe.Hashes[index];
            for (var attempt = 0; ; attempt++)
            {
                var node = nodes[index];
                var id = ShardId.New();
                // Recorded before the put: a put cut off half way may still have stored the shard.
                _written.Enqueue((node, id));
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(owner._options.ShardTimeout);
                    try
                    {
                        await owner._client.PutAsync(node, id, new ReadOnlyMemoryStream(memory, hash), stripe.ShardLength, hash, timeout.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw new TimeoutException($"Storing shard '{id}' on node '{node}' took longer than {owner._options.ShardTimeout}.");
                    }
                    catch (ShardCorruptException)
                    {
                        // The bytes were hashed before they were sent: a node that kept others holds nothing trustworthy,
                        // which costs it as an altered shard found by a read does. The retry below places it elsewhere.
                        owner._corrupt?.OnCorruptShard(node, id);
                        throw;
                    }

                    places[index] = new ShardPlacement(index, node, id, hash);
                    return;
                }
                catch (Exception e) when (attempt < MaxPutRetries && !cancellationToken.IsCancellationRequested && e is IOException or HttpRequestException or TimeoutException)
                {
                    _failedNodes.TryAdd(node, 0);
                    string replacement;
                    lock (nodes)
                    {
                        var occupied = nodes.Where((n, i) => i != index).GroupBy(n => n, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                        try
                        {
                            replacement = owner._placement.Place(stripe.Index, 1, stripe.ShardLength, LiveCandidates(), occupied)[0];
                        }
                        catch (InsufficientShardNodesException)
                        {
                            ExceptionDispatchInfo.Throw(e);
                            throw;
                        }

                        nodes[index] = replacement;
                    }

                    StorageLog.ShardPutRetried(owner._logger, stripe.Index, index, node, replacement, e);

                    _assignedBytes.AddOrUpdate(replacement, stripe.ShardLength, (_, v) => v + stripe.ShardLength);
                }
            }
        }

        private List<PlacementCandidate> LiveCandidates()
        {
            var live = new List<PlacementCandidate>(candidates.Count);
            foreach (var c in candidates)
            {
                if (!_failedNodes.ContainsKey(c.NodeId))
                {
                    live.Add(_assignedBytes.TryGetValue(c.NodeId, out var used) ? c with { FreeBytes = c.FreeBytes - used } : c);
                }
            }

            return live;
        }

        private async Task DeleteWrittenAsync()
        {
            // Best effort: a shard on a node that cannot be reached now stays there, named by no manifest.
            await Parallel.ForEachAsync(_written, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (w, _) =>
            {
                try
                {
                    // Not the write's token (it may be what cancelled the write), but bounded: a hung node must not hang the cleanup.
                    using var timeout = new CancellationTokenSource(owner._options.ShardTimeout);
                    await owner._client.DeleteAsync(w.Node, w.Id, timeout.Token);
                }
                catch (Exception e)
                {
                    StorageLog.CleanupDeleteFailed(owner._logger, w.Id.Value, w.Node, e);
                }
            });
        }
    }
}
