using System.Security.Cryptography;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class ObjectWriterTests
{
    private const int SmallShard = 4096;

    private static ObjectWriteRequest Request(int k = 3, int m = 2) =>
        new("ns", "obj") { DataShards = k, ParityShards = m, ShardSize = SmallShard, ContentType = "text/plain" };

    [Theory]
    [Trait("Suite", "BVT")]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(12287)]
    [InlineData(12288)]
    [InlineData(12289)]
    [InlineData(100_000)]
    public async Task Write_SizeNotMultipleOfStripe_RecordsRealLengthsAndPaddedShards(int size)
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(size);

        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());

        Assert.Equal(size, manifest.Size);
        Assert.Equal("text/plain", manifest.ContentType);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), manifest.Sha256);
        Assert.Equal((size + 12287) / 12288, manifest.Stripes.Count);
        Assert.Equal(size, manifest.Stripes.Sum(s => (long)s.Length));
        var last = manifest.Stripes[^1];
        Assert.Equal((last.Length + 2) / 3 == SmallShard ? SmallShard : (last.Length + 2) / 3, last.ShardLength);
        Assert.All(manifest.Stripes.SkipLast(1), s => Assert.Equal(SmallShard, s.ShardLength));
        using var output = new MemoryStream();
        await new ObjectReader(nodes.Client).ReadAsync(manifest, output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_FiveNodes_PutsEachStripeOnDistinctNodesWithMatchingHashes()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(TestData.Bytes(50_000)), nodes.Candidates());

        foreach (var stripe in manifest.Stripes)
        {
            Assert.Equal(Enumerable.Range(0, 5), stripe.Shards.Select(p => p.ShardIndex));
            Assert.Equal(5, stripe.Shards.Select(p => p.NodeId).Distinct().Count());
            foreach (var p in stripe.Shards)
            {
                var info = await nodes.Store(p.NodeId).GetInfoAsync(p.ShardId);
                Assert.NotNull(info);
                Assert.Equal(p.Sha256, info.Sha256);
                Assert.Equal(stripe.ShardLength, info.Length);
            }
        }

        Assert.Equal(manifest.Stripes.Count * 5, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_MoreShardsThanNodes_UsesDistinctVolumesOnEachNode()
    {
        using var nodes = new LocalNodes(5, volumesPerNode: 3);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(10, 4), new MemoryStream(TestData.Bytes(100_000)), nodes.Candidates());

        foreach (var stripe in manifest.Stripes)
        {
            var perNode = stripe.Shards.GroupBy(p => p.NodeId).ToArray();
            var layout = new List<string>();
            foreach (var group in perNode)
            {
                foreach (var p in group)
                {
                    layout.Add($"{p.ShardIndex}@{p.NodeId}/{(await nodes.Store(p.NodeId).GetInfoAsync(p.ShardId))!.Volume}");
                }
            }

            // The whole layout in the message: a failure says which shard went where.
            var described = string.Join(", ", layout);
            Assert.True(perNode.Length == 5, described);
            Assert.True(perNode.All(g => g.Count() is 2 or 3), described);
            // No two shards of the stripe on one node/volume.
            Assert.True(layout.Select(l => l[(l.IndexOf('@', StringComparison.Ordinal) + 1)..]).Distinct().Count() == layout.Count, described);
        }
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_SourceThrowsMidway_LeavesNoShardsAndPropagates()
    {
        using var nodes = new LocalNodes(5);
        var source = new GeneratedStream(1_000_000, failAfter: 500_000);

        var e = await Assert.ThrowsAsync<IOException>(() => new ObjectWriter(nodes.Client).WriteAsync(Request(), source, nodes.Candidates()));

        Assert.Equal("The source broke off.", e.Message);
        Assert.Equal(0, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_NodeRefusesEveryPut_RetriesOnAnotherNode()
    {
        using var nodes = new LocalNodes(6);
        var faults = new FaultInjectingShardClient(nodes.Client);
        faults.FailingPutNodes.TryAdd("node-2", 0);
        var data = TestData.Bytes(40_000);

        var log = new CapturingLogger<ObjectWriter>();
        var manifest = await new ObjectWriter(faults, logger: log).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());

        Assert.Contains(log.Entries, e => e.Id.Id == 3031 && e.Message.Contains("node-2", StringComparison.Ordinal));
        Assert.DoesNotContain(manifest.AllShards, p => p.NodeId == "node-2");
        Assert.All(manifest.Stripes, s => Assert.Equal(5, s.Shards.Select(p => p.NodeId).Distinct().Count()));
        using var output = new MemoryStream();
        await new ObjectReader(nodes.Client).ReadAsync(manifest, output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_NodeHangs_TimesOutAndStoresOnAnotherNode()
    {
        using var nodes = new LocalNodes(6);
        var faults = new FaultInjectingShardClient(nodes.Client);
        faults.HangingPutNodes.TryAdd("node-4", 0);
        var data = TestData.Bytes(20_000);
        var writer = new ObjectWriter(faults, options: new Storage.Options.StorageOptions { ShardTimeout = TimeSpan.FromMilliseconds(200) });

        var manifest = await writer.WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());

        Assert.DoesNotContain(manifest.AllShards, p => p.NodeId == "node-4");
        using var output = new MemoryStream();
        await new ObjectReader(nodes.Client).ReadAsync(manifest, output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_PutsFailPartWay_DeletesWrittenShardsAndThrows()
    {
        using var nodes = new LocalNodes(5);
        var faults = new FaultInjectingShardClient(nodes.Client) { FailPutAfter = 12 };
        faults.FailingPutNodes.Clear();

        await Assert.ThrowsAnyAsync<IOException>(() => new ObjectWriter(faults).WriteAsync(Request(), new MemoryStream(TestData.Bytes(100_000)), nodes.Candidates()));

        Assert.Equal(0, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_LargerThanMaxSize_ThrowsTooLargeAndLeavesNothing()
    {
        using var nodes = new LocalNodes(5);
        var request = Request() with { MaxSize = 30_000 };

        await Assert.ThrowsAsync<ObjectTooLargeException>(() => new ObjectWriter(nodes.Client).WriteAsync(request, new GeneratedStream(30_001), nodes.Candidates()));

        Assert.Equal(0, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_ExactlyMaxSize_Succeeds()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request() with { MaxSize = 30_000 }, new GeneratedStream(30_000), nodes.Candidates());
        Assert.Equal(30_000, manifest.Size);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_ExpectedHashDiffers_ThrowsCorruptAndLeavesNothing()
    {
        using var nodes = new LocalNodes(5);
        var request = Request() with { ExpectedSha256 = new string('a', 64) };

        await Assert.ThrowsAsync<ObjectCorruptException>(() => new ObjectWriter(nodes.Client).WriteAsync(request, new MemoryStream(TestData.Bytes(20_000)), nodes.Candidates()));

        Assert.Equal(0, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_Cancelled_LeavesNothing()
    {
        using var nodes = new LocalNodes(5);
        using var cts = new CancellationTokenSource();
        var source = new CancellingStream(new GeneratedStream(1_000_000), cts, cancelAfter: 200_000);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ObjectWriter(nodes.Client).WriteAsync(Request(), source, nodes.Candidates(), cts.Token));

        Assert.Equal(0, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_NoCandidates_Throws()
    {
        using var nodes = new LocalNodes(1);
        await Assert.ThrowsAsync<InsufficientShardNodesException>(() => new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream([1]), []));
    }

    private sealed class CancellingStream(Stream inner, CancellationTokenSource cts, long cancelAfter) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= cancelAfter)
            {
                await cts.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
            }

            var n = await inner.ReadAsync(buffer, cancellationToken);
            _read += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Write_ManyStripes_OverlapsStripeWritesWithinStripesInFlight()
    {
        using var nodes = new LocalNodes(5);
        var options = new StorageOptions { StripesInFlight = 4 };
        var gated = new GatedPutClient(nodes.Client, releaseAt: 10);

        var manifest = await new ObjectWriter(gated, options: options).WriteAsync(Request(), new MemoryStream(TestData.Bytes(40 * 3 * SmallShard)), nodes.Candidates());

        Assert.Equal(40, manifest.Stripes.Count);
        // The first puts are held until the next stripe's puts have started: only overlapping writes get there.
        Assert.InRange(gated.MaxConcurrentPuts, 10, options.StripesInFlight * 5);
        Assert.Equal(40 * 5, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Write_OneStripeFailsWhileOthersInFlight_DeletesEveryShardAndThrowsItsError()
    {
        using var nodes = new LocalNodes(5);
        var failing = new GatedPutClient(nodes.Client, releaseAt: 10) { FailShardOfStripe = 7 };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new ObjectWriter(failing, options: new StorageOptions { StripesInFlight = 4 }).WriteAsync(Request(), new MemoryStream(TestData.Bytes(40 * 3 * SmallShard)), nodes.Candidates()));

        Assert.Equal(GatedPutClient.InjectedMessage, error.Message);
        Assert.True(failing.MaxConcurrentPuts > 5, "the failing stripe should have been written alongside others");
        Assert.Equal(0, await nodes.TotalShardsAsync());
        Assert.Equal(0, failing.PutsInFlight);
    }

    /// <summary>
    /// Holds every put until <c>releaseAt</c> puts are running at once (or a moment has passed), counts concurrency, and
    /// can fail the puts of one stripe (recognised by the put number) with an error the writer does not retry.
    /// </summary>
    private sealed class GatedPutClient(IShardClient inner, int releaseAt) : IShardClient
    {
        public const string InjectedMessage = "Injected non-retryable failure.";

        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;
        private int _max;
        private int _started;

        public int? FailShardOfStripe { get; init; }

        public int MaxConcurrentPuts => Volatile.Read(ref _max);

        public int PutsInFlight => Volatile.Read(ref _inFlight);

        public async Task<ShardInfo> PutAsync(string nodeId, ShardId shardId, Stream content, long length, string? sha256, CancellationToken cancellationToken = default)
        {
            var number = Interlocked.Increment(ref _started) - 1;
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _max, now);
            try
            {
                if (now >= releaseAt)
                {
                    _released.TrySetResult();
                }

                await Task.WhenAny(_released.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                if (number / 5 == FailShardOfStripe)
                {
                    throw new InvalidOperationException(InjectedMessage);
                }

                return await inner.PutAsync(nodeId, shardId, content, length, sha256, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }

        public Task<Stream> OpenReadAsync(string nodeId, ShardId shardId, string? expectedSha256, CancellationToken cancellationToken = default) => inner.OpenReadAsync(nodeId, shardId, expectedSha256, cancellationToken);

        public Task<bool> DeleteAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) => inner.DeleteAsync(nodeId, shardId, cancellationToken);

        public Task<ShardScrubResult> ScrubAsync(string nodeId, ShardId shardId, CancellationToken cancellationToken = default) => inner.ScrubAsync(nodeId, shardId, cancellationToken);

        public Task<IReadOnlyList<ShardListing>> ListAsync(string nodeId, ShardId? after, int limit, CancellationToken cancellationToken = default) => inner.ListAsync(nodeId, after, limit, cancellationToken);

        public Task<ShardStoreStats> GetStatsAsync(string nodeId, CancellationToken cancellationToken = default) => inner.GetStatsAsync(nodeId, cancellationToken);
    }
}
