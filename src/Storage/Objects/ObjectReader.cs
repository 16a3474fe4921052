using System.IO.Pipelines;
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

/// <summary>Streams a stored object, or a byte range of it, from its shards.</summary>
/// <remarks>
/// For each stripe the reader fetches the data shards covering the range; when one is missing, corrupt or on a dead
/// node it fetches further shards until it holds k of them and decodes (hedged reads). Every shard is checked against
/// its SHA-256 in the manifest as it is read, and a rebuilt data shard after decoding, so no byte leaves unchecked. The next stripe is
/// fetched while the current one is written out, with at most <see cref="StorageOptions.StripesInFlight"/> stripe
/// buffers from the <see cref="StripeBufferPool"/>.
/// </remarks>
public sealed class ObjectReader
{
    private readonly IShardClient _client;
    private readonly StripeBufferPool _pool;
    private readonly StorageOptions _options;
    private readonly ILogger _logger;
    private readonly ICorruptShardObserver? _corrupt;

    /// <summary>Creates a reader.</summary>
    /// <param name="client">The shard transport.</param>
    /// <param name="pool">The stripe buffer pool; default a private pool.</param>
    /// <param name="options">Supplies <see cref="StorageOptions.StripesInFlight"/>.</param>
    /// <param name="logger">Where to report shards that could not be read.</param>
    /// <param name="corrupt">Told of each shard a node sent back altered; null when nobody listens.</param>
    public ObjectReader(IShardClient client, StripeBufferPool? pool = null, StorageOptions? options = null, ILogger<ObjectReader>? logger = null, ICorruptShardObserver? corrupt = null)
    {
        _corrupt = corrupt;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _pool = pool ?? new StripeBufferPool();
        _options = options ?? new StorageOptions();
    }

    /// <summary>Writes the object's bytes from <paramref name="offset"/> (<paramref name="length"/> of them, or to the end) to <paramref name="destination"/>.</summary>
    /// <exception cref="ObjectUnreadableException">A stripe has fewer than k good shards.</exception>
    /// <exception cref="ObjectCorruptException">A decoded data shard's SHA-256 differs from the manifest.</exception>
    public Task<ObjectReadResult> ReadAsync(ObjectManifest manifest, Stream destination, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return ReadCoreAsync(manifest, (memory, ct) => destination.WriteAsync(memory, ct), offset, length, cancellationToken);
    }

    /// <summary>Writes the object's bytes from <paramref name="offset"/> (<paramref name="length"/> of them, or to the end) to <paramref name="destination"/>, flushing after each stripe.</summary>
    public Task<ObjectReadResult> ReadAsync(ObjectManifest manifest, PipeWriter destination, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return ReadCoreAsync(manifest, async (memory, ct) =>
        {
            var flush = await destination.WriteAsync(memory, ct);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                throw new OperationCanceledException("The reader of the destination pipe stopped.");
            }
        }, offset, length, cancellationToken);
    }

    private async Task<ObjectReadResult> ReadCoreAsync(ObjectManifest manifest, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var count = length ?? (manifest.Size - offset);
        if (offset < 0 || count < 0 || offset > manifest.Size || count > manifest.Size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"The range {offset}+{count} is outside the object's {manifest.Size} bytes.");
        }

        var failures = new List<FailedShard>();
        if (count == 0)
        {
            return new ObjectReadResult(0, 0, failures);
        }

        var stripeData = manifest.StripeDataSize;
        var first = (int)(offset / stripeData);
        var last = (int)((offset + count - 1) / stripeData);
        var channel = Channel.CreateUnbounded<FetchedStripe>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var slots = new SemaphoreSlim(Math.Max(2, _options.StripesInFlight));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var decoded = 0;

        async Task ProduceAsync(CancellationToken ct)
        {
            try
            {
                var codec = CodecCache.Get(manifest.DataShards, manifest.ParityShards);
                for (var s = first; s <= last; s++)
                {
                    var stripe = manifest.Stripes[s];
                    var stripeStart = s * stripeData;
                    var from = (int)(Math.Max(offset, stripeStart) - stripeStart);
                    var to = (int)(Math.Min(offset + count, stripeStart + stripe.Length) - stripeStart);
                    await slots.WaitAsync(ct);
                    var rentSize = manifest.TotalShards * stripe.ShardLength;
                    byte[] buffer;
                    try
                    {
                        buffer = await _pool.RentAsync(rentSize, ct);
                    }
                    catch
                    {
                        slots.Release();
                        throw;
                    }

                    var handedOver = false;
                    try
                    {
                        var fetchFailures = new List<ShardFetchFailure>();
                        var firstShard = from / stripe.ShardLength;
                        var lastShard = (to - 1) / stripe.ShardLength;
                        var present = await StripeFetcher.FetchAsync(_client, Describe(manifest), stripe, manifest.DataShards, manifest.ParityShards, buffer.AsMemory(0, rentSize), firstShard, lastShard, needAnyK: false, skip: null, fetchFailures, _options.ShardTimeout, ct);
                        foreach (var f in fetchFailures)
                        {
                            StorageLog.ShardFetchFailed(_logger, Describe(manifest), stripe.Index, f.Shard.ShardIndex, f.Shard.ShardId.Value, f.Shard.NodeId, f.Error);
                            ReportIfCorrupt(_corrupt, f);
                        }

                        lock (failures)
                        {
                            failures.AddRange(fetchFailures.Select(f => new FailedShard(stripe.Index, f.Shard, $"{f.Error.GetType().Name}: {f.Error.Message}")));
                        }

                        var missing = false;
                        for (var i = firstShard; i <= lastShard; i++)
                        {
                            missing |= !present[i];
                        }

                        if (missing)
                        {
                            codec.ReconstructData(Slices(buffer, manifest.TotalShards, stripe.ShardLength), present);
                            VerifyReconstructed(manifest, stripe, buffer, present, firstShard, lastShard);
                            decoded++;
                        }

                        await channel.Writer.WriteAsync(new FetchedStripe(buffer, rentSize, from, to - from), ct);
                        handedOver = true;
                    }
                    finally
                    {
                        if (!handedOver)
                        {
                            _pool.Return(buffer, rentSize);
                            slots.Release();
                        }
                    }
                }

                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                // Completing the channel with the error ends the consumer's loop with that same error.
                channel.Writer.TryComplete(e);
                throw;
            }
        }

        var producer = Task.Run(() => ProduceAsync(cts.Token), CancellationToken.None);
        long written = 0;
        try
        {
            await foreach (var stripe in channel.Reader.ReadAllAsync(cts.Token))
            {
                try
                {
                    var slice = stripe.Buffer.AsMemory(stripe.Offset, stripe.Count);
                    await write(slice, cts.Token);
                    written += stripe.Count;
                }
                finally
                {
                    _pool.Return(stripe.Buffer, stripe.RentedSize);
                    slots.Release();
                }
            }

            await producer;
        }
        catch (Exception consumerError)
        {
            await cts.CancelAsync();
            await producer.ContinueWith(static _ => { }, TaskScheduler.Default);
            while (channel.Reader.TryRead(out var left))
            {
                _pool.Return(left.Buffer, left.RentedSize);
            }

            // Report why the fetching side failed rather than the cancellation that followed from it.
            if (consumerError is OperationCanceledException && !cancellationToken.IsCancellationRequested && producer.Exception?.InnerException is { } fetchError)
            {
                ExceptionDispatchInfo.Throw(fetchError);
            }

            throw;
        }

        return new ObjectReadResult(written, decoded, failures);
    }

    /// <summary>Checks data shards rebuilt by the decoder against their hashes in the manifest, before any of their bytes are sent.</summary>
    /// <remarks>
    /// Every byte a reader sends is thereby checked against a manifest hash: fetched shards by the store as they are read,
    /// rebuilt ones here. The SHA-256 of the whole object is not computed again (it cost 40% of a 1 GiB get's CPU, and a
    /// mismatch found at the end could only cut the response short); it goes to the client in <c>ETag</c> and
    /// <c>X-Xmbl-Sha256</c>, and the CLI checks it end to end.
    /// </remarks>
    [SkipLocalsInit]
    private static void VerifyReconstructed(ObjectManifest manifest, StripeManifest stripe, byte[] buffer, bool[] present, int firstShard, int lastShard)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        for (var i = firstShard; i <= lastShard; i++)
        {
            if (present[i])
            {
                continue;
            }

            var expected = stripe.Shards.First(p => p.ShardIndex == i).Sha256;
            SHA256.HashData(buffer.AsSpan(i * stripe.ShardLength, stripe.ShardLength), digest);
            var actual = Convert.ToHexStringLower(digest);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new ObjectCorruptException($"{Describe(manifest)}: shard {i} of stripe {stripe.Index} decodes to SHA-256 {actual}, not the manifest's {expected}.");
            }
        }
    }

    /// <summary>Tells <paramref name="observer"/> of a fetch that failed because the node sent back altered bytes.</summary>
    /// <remarks>A stripe's fetch takes each shard once, so a read or a repair reports a shard at most once.</remarks>
    internal static void ReportIfCorrupt(ICorruptShardObserver? observer, ShardFetchFailure failure)
    {
        if (observer is not null && failure.Error is ShardCorruptException)
        {
            observer.OnCorruptShard(failure.Shard.NodeId, failure.Shard.ShardId);
        }
    }

    internal static Memory<byte>[] Slices(byte[] buffer, int total, int shardLength)
    {
        var slices = new Memory<byte>[total];
        for (var i = 0; i < total; i++)
        {
            slices[i] = buffer.AsMemory(i * shardLength, shardLength);
        }

        return slices;
    }

    internal static string Describe(ObjectManifest manifest) => $"'{manifest.Namespace}/{manifest.Name}'";

    private readonly record struct FetchedStripe(byte[] Buffer, int RentedSize, int Offset, int Count);
}
