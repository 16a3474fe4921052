using System.IO.Pipelines;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class ObjectReaderTests
{
    private const int SmallShard = 4096;

    private static ObjectWriteRequest Request(int k, int m, int shardSize = SmallShard) =>
        new("ns", "obj") { DataShards = k, ParityShards = m, ShardSize = shardSize };

    private static async Task<byte[]> ReadAllAsync(ObjectReader reader, ObjectManifest manifest, long offset = 0, long? length = null)
    {
        using var output = new MemoryStream();
        await reader.ReadAsync(manifest, output, offset, length);
        return output.ToArray();
    }

    /// <summary>Every way of choosing <paramref name="m"/> of <paramref name="n"/> indices (or a deterministic sample when there are many).</summary>
    private static IEnumerable<int[]> Combinations(int n, int m, int max)
    {
        var all = new List<int[]>();
        void Walk(int start, List<int> chosen)
        {
            if (chosen.Count == m)
            {
                all.Add(chosen.ToArray());
                return;
            }

            for (var i = start; i < n; i++)
            {
                chosen.Add(i);
                Walk(i + 1, chosen);
                chosen.RemoveAt(chosen.Count - 1);
            }
        }

        Walk(0, []);
        if (all.Count <= max)
        {
            return all;
        }

        var random = new Random(42);
        // Always include "all data shards first" and "all parity" patterns, then a random sample.
        return all.Take(1).Concat(all.TakeLast(1)).Concat(all.OrderBy(_ => random.Next()).Take(max - 2));
    }

    [Theory]
    [Trait("Suite", "Functional")]
    [InlineData(3, 2, 50)]
    [InlineData(10, 4, 60)]
    [InlineData(1, 1, 10)]
    public async Task Read_AnyMShardsOfEachStripeLost_ReturnsIdenticalBytes(int k, int m, int maxPatterns)
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes((k * SmallShard * 3) + 1234, seed: k * 31 + m);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(k, m), new MemoryStream(data), nodes.Candidates());
        Assert.Equal(4, manifest.Stripes.Count);
        var faults = new FaultInjectingShardClient(nodes.Client);
        var reader = new ObjectReader(faults);

        foreach (var lost in Combinations(k + m, m, maxPatterns))
        {
            faults.Hidden.Clear();
            foreach (var stripe in manifest.Stripes)
            {
                // Rotate the pattern per stripe so different stripes lose different shards.
                foreach (var i in lost)
                {
                    faults.Hidden.TryAdd(stripe.Shards[(i + stripe.Index) % (k + m)].ShardId, 0);
                }
            }

            Assert.Equal(data, await ReadAllAsync(reader, manifest));
        }
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Read_MoreThanMShardsLost_ThrowsUnreadable()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(20_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());
        var faults = new FaultInjectingShardClient(nodes.Client);
        foreach (var p in manifest.Stripes[0].Shards.Take(3))
        {
            faults.Hidden.TryAdd(p.ShardId, 0);
        }

        var e = await Assert.ThrowsAsync<ObjectUnreadableException>(() => ReadAllAsync(new ObjectReader(faults), manifest));
        Assert.Equal(0, e.StripeIndex);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Read_ShardFilesDeletedFromDisk_StillReadsAndReportsFailures()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(50_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());
        foreach (var stripe in manifest.Stripes)
        {
            foreach (var p in stripe.Shards.Take(2))
            {
                File.Delete(nodes.ShardFile(p));
            }
        }

        using var output = new MemoryStream();
        var result = await new ObjectReader(nodes.Client).ReadAsync(manifest, output);

        Assert.Equal(data, output.ToArray());
        Assert.Equal(manifest.Stripes.Count, result.StripesDecoded);
        Assert.Equal(manifest.Stripes.Count * 2, result.FailedShards.Count);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Read_AllShardsHealthy_FetchesOnlyDataShards()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(TestData.Bytes(3 * SmallShard * 2)), nodes.Candidates());
        var counting = new FaultInjectingShardClient(nodes.Client);

        using var output = new MemoryStream();
        var result = await new ObjectReader(counting).ReadAsync(manifest, output);

        Assert.Equal(6, counting.Reads);
        Assert.Equal(0, result.StripesDecoded);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Read_FlippedByteInShardFile_ReadsCorrectBytesAndReportsCorruptShard()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(30_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());
        var victim = manifest.Stripes[1].Shards[0];
        var path = nodes.ShardFile(victim);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[17] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);

        using var output = new MemoryStream();
        var result = await new ObjectReader(nodes.Client).ReadAsync(manifest, output);

        Assert.Equal(data, output.ToArray());
        var failed = Assert.Single(result.FailedShards);
        Assert.Equal(victim.ShardId, failed.Shard.ShardId);
        Assert.Contains(nameof(ShardCorruptException), failed.Reason, StringComparison.Ordinal);
    }

    public static TheoryData<long, long> Ranges => new()
    {
        { 0, 1 },
        { 0, 12288 },
        { 5, 100 },
        { 4095, 2 },
        { 12287, 2 },
        { 12288, 12288 },
        { 30000, 10000 },
        { 40000, 1234 },
        { 41233, 1 },
        { 0, 41234 },
        { 41234, 0 },
    };

    [Theory]
    [Trait("Suite", "Functional")]
    [MemberData(nameof(Ranges))]
    public async Task Read_Range_ReturnsExactlyThoseBytes(long offset, long length)
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(41234);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());

        var read = await ReadAllAsync(new ObjectReader(nodes.Client), manifest, offset, length);

        Assert.Equal(data.AsSpan((int)offset, (int)length).ToArray(), read);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Read_RangeWithDataShardLost_DecodesThatRange()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(41234);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());
        var faults = new FaultInjectingShardClient(nodes.Client);
        faults.Hidden.TryAdd(manifest.Stripes[1].Shards[1].ShardId, 0);

        var read = await ReadAllAsync(new ObjectReader(faults), manifest, 12288 + 4096 + 10, 5000);

        Assert.Equal(data.AsSpan(12288 + 4096 + 10, 5000).ToArray(), read);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Read_RangeOutsideObject_Throws()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(new byte[100]), nodes.Candidates());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ReadAllAsync(new ObjectReader(nodes.Client), manifest, 50, 51));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ReadAllAsync(new ObjectReader(nodes.Client), manifest, -1, 1));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Read_EmptyObject_WritesNothing()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(), nodes.Candidates());

        Assert.Empty(manifest.Stripes);
        Assert.Equal(0, manifest.Size);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", manifest.Sha256);
        Assert.Empty(await ReadAllAsync(new ObjectReader(nodes.Client), manifest));
        Assert.Equal(0, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Read_ToPipeWriter_ReturnsSameBytes()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(25_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));

        await new ObjectReader(nodes.Client).ReadAsync(manifest, pipe.Writer);
        await pipe.Writer.CompleteAsync();
        using var output = new MemoryStream();
        await pipe.Reader.CopyToAsync(output);

        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Read_DecodedShardNotMatchingManifest_ThrowsCorruptBeforeWritingIt()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(TestData.Bytes(9000)), nodes.Candidates());
        // Data shard 1 is lost, so the reader rebuilds it; the manifest claims another hash for it.
        var lost = manifest.Stripes[0].Shards[1];
        await nodes.Client.DeleteAsync(lost.NodeId, lost.ShardId);
        var shards = manifest.Stripes[0].Shards.Select(p => p.ShardIndex == 1 ? p with { Sha256 = new string('0', 64) } : p).ToArray();
        var tampered = manifest with { Stripes = [manifest.Stripes[0] with { Shards = shards }] };
        using var sink = new MemoryStream();

        await Assert.ThrowsAsync<ObjectCorruptException>(() => new ObjectReader(nodes.Client).ReadAsync(tampered, sink));

        Assert.Equal(0, sink.Length);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Read_64MiBObject_StreamsWithBoundedBuffers()
    {
        const long size = 64L * 1024 * 1024 + 12345;
        using var nodes = new LocalNodes(5);
        var options = new StorageOptions();
        var pool = new StripeBufferPool();
        var manifest = await new ObjectWriter(nodes.Client, pool, options: options).WriteAsync(new ObjectWriteRequest("ns", "big"), new GeneratedStream(size), nodes.Candidates());
        var writePeak = pool.PeakRentedBytes;
        var readPool = new StripeBufferPool();

        var sink = new VerifyingSink();
        await new ObjectReader(nodes.Client, readPool, options).ReadAsync(manifest, sink);

        Assert.Equal(size, sink.Written);
        Assert.Equal(-1, sink.FirstMismatch);
        var stripeBuffer = (long)options.DataShards + options.ParityShards;
        stripeBuffer *= options.ShardSize;
        Assert.Equal(22, manifest.Stripes.Count);
        // At most StripesInFlight stripe buffers at once, whatever the object size (22 stripes here).
        Assert.InRange(pool.PeakRentedCount, 1, options.StripesInFlight);
        Assert.InRange(writePeak, stripeBuffer, options.StripesInFlight * stripeBuffer);
        Assert.InRange(readPool.PeakRentedCount, 1, options.StripesInFlight);
        Assert.InRange(readPool.PeakRentedBytes, stripeBuffer, options.StripesInFlight * stripeBuffer);
        Assert.Equal(0, pool.RentedBytes);
        Assert.Equal(0, readPool.RentedBytes);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Read_TransportCompletesSynchronously_ReadsAndDecodes()
    {
        var client = new InMemoryShardClient();
        var candidates = Enumerable.Range(0, 5).Select(i => new PlacementCandidate($"m{i}", 1L << 40)).ToArray();
        var data = TestData.Bytes(50_000);
        var manifest = await new ObjectWriter(client).WriteAsync(Request(3, 2), new MemoryStream(data), candidates);

        Assert.Equal(data, await ReadAllAsync(new ObjectReader(client), manifest));
        var lost = manifest.Stripes[0].Shards[0];
        client.Remove(lost.NodeId, lost.ShardId);
        Assert.Equal(data, await ReadAllAsync(new ObjectReader(client), manifest));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Read_ShardNeverAnswers_TimesOutAndReadsAnother()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(30_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(3, 2), new MemoryStream(data), nodes.Candidates());
        var faults = new FaultInjectingShardClient(nodes.Client);
        var hung = manifest.Stripes[1].Shards[2];
        faults.Hanging.TryAdd(hung.ShardId, 0);
        var reader = new ObjectReader(faults, options: new StorageOptions { ShardTimeout = TimeSpan.FromMilliseconds(200) });

        using var output = new MemoryStream();
        var result = await reader.ReadAsync(manifest, output);

        Assert.Equal(data, output.ToArray());
        var failed = Assert.Single(result.FailedShards);
        Assert.Equal(hung.ShardId, failed.Shard.ShardId);
        Assert.Contains(nameof(TimeoutException), failed.Reason, StringComparison.Ordinal);
    }
}
