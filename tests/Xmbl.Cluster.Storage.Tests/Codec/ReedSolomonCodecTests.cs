using Xmbl.Cluster.Storage.Codec;
using static Xmbl.Cluster.Storage.Tests.Codec.CodecTestHelpers;

namespace Xmbl.Cluster.Storage.Tests.Codec;

[Trait("Suite", "BVT")]
public sealed class ReedSolomonCodecTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(-1, 2)]
    [InlineData(1, 0)]
    [InlineData(3, -1)]
    [InlineData(200, 57)]
    [InlineData(256, 1)]
    public void Constructor_OutOfRangeShape_ThrowsWithClearMessage(int k, int m)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomonCodec(k, m));
        Assert.Contains("shard", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(255, 1)]
    [InlineData(128, 128)]
    public void Constructor_ValidShape_ReportsCounts(int k, int m)
    {
        var codec = new ReedSolomonCodec(k, m);
        Assert.Equal(k, codec.DataShards);
        Assert.Equal(m, codec.ParityShards);
        Assert.Equal(k + m, codec.TotalShards);
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(10, 4)]
    [InlineData(1, 1)]
    [InlineData(17, 3)]
    [InlineData(6, 3)]
    [InlineData(4, 4)]
    public void Reconstruct_EveryPatternOfUpToMLostShards_RecoversIdenticalBytes(int k, int m)
    {
        var random = new Random(k * 31 + m);
        var codec = new ReedSolomonCodec(k, m);
        var stripe = EncodeStripe(codec, RandomShards(random, k, 1031));
        for (var lost = 1; lost <= m; lost++)
        {
            foreach (var erased in Combinations(k + m, lost))
            {
                var rebuilt = EraseAndReconstruct(codec, stripe, erased, dataOnly: false);
                for (var i = 0; i < k + m; i++)
                {
                    Assert.True(stripe[i].AsSpan().SequenceEqual(rebuilt[i]), $"({k},{m}) erased [{string.Join(',', erased)}]: shard {i} differs.");
                }
            }
        }
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(10, 4)]
    [InlineData(17, 3)]
    public void ReconstructData_LostDataAndParity_RebuildsDataAndLeavesParityBuffersAlone(int k, int m)
    {
        var random = new Random(k);
        var codec = new ReedSolomonCodec(k, m);
        var stripe = EncodeStripe(codec, RandomShards(random, k, 777));
        int[] erased = [0, k];
        var rebuilt = EraseAndReconstruct(codec, stripe, erased, dataOnly: true);
        Assert.Equal(stripe[0], rebuilt[0]);
        Assert.All(rebuilt[k], b => Assert.Equal(0xA5, b));
    }

    [Fact]
    public void Reconstruct_FewerThanKPresent_Throws()
    {
        var codec = new ReedSolomonCodec(3, 2);
        var stripe = EncodeStripe(codec, RandomShards(new Random(1), 3, 64));
        var ex = Assert.Throws<ArgumentException>(() => EraseAndReconstruct(codec, stripe, [0, 1, 4], dataOnly: false));
        Assert.Contains("at least 3", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EraseAndReconstruct(codec, stripe, [0, 1, 2], dataOnly: true));
    }

    [Fact]
    public void Reconstruct_AllPresent_LeavesShardsUnchanged()
    {
        var codec = new ReedSolomonCodec(4, 2);
        var stripe = EncodeStripe(codec, RandomShards(new Random(2), 4, 100));
        var rebuilt = EraseAndReconstruct(codec, stripe, [], dataOnly: false);
        for (var i = 0; i < stripe.Length; i++)
        {
            Assert.Equal(stripe[i], rebuilt[i]);
        }

        Assert.Equal(0, codec.CachedDecodePatterns);
    }

    [Fact]
    public void Reconstruct_SlicedMemoryAtOffsets_WorksOnWindowsOfLargerBuffers()
    {
        const int Size = 300;
        var codec = new ReedSolomonCodec(3, 2);
        var stripe = EncodeStripe(codec, RandomShards(new Random(3), 3, Size));
        var backing = new byte[5 * (Size + 7)];
        var windows = new Memory<byte>[5];
        for (var i = 0; i < 5; i++)
        {
            windows[i] = backing.AsMemory((i * (Size + 7)) + 3, Size);
            stripe[i].CopyTo(windows[i]);
        }

        windows[1].Span.Clear();
        windows[3].Span.Clear();
        codec.Reconstruct(windows, [true, false, true, false, true]);
        Assert.True(windows[1].Span.SequenceEqual(stripe[1]));
        Assert.True(windows[3].Span.SequenceEqual(stripe[3]));
    }

    [Fact]
    public void Verify_CorruptedByte_ReturnsFalse()
    {
        var codec = new ReedSolomonCodec(10, 4);
        var stripe = EncodeStripe(codec, RandomShards(new Random(4), 10, 50_000));
        var view = stripe.Select(s => (ReadOnlyMemory<byte>)s).ToArray();
        Assert.True(codec.Verify(view));
        foreach (var (shard, position) in new[] { (0, 0), (9, 49_999), (10, 20_000), (13, 16_384) })
        {
            stripe[shard][position] ^= 0x40;
            Assert.False(codec.Verify(view), $"corruption in shard {shard} at {position} went unnoticed");
            stripe[shard][position] ^= 0x40;
        }

        Assert.True(codec.Verify(view));
    }

    [Fact]
    public void EncodeVerifyReconstruct_ZeroLengthShards_AreNoOps()
    {
        var codec = new ReedSolomonCodec(3, 2);
        var stripe = EncodeStripe(codec, RandomShards(new Random(5), 3, 0));
        Assert.True(codec.Verify(stripe.Select(s => (ReadOnlyMemory<byte>)s).ToArray()));
        var rebuilt = EraseAndReconstruct(codec, stripe, [0, 4], dataOnly: false);
        Assert.All(rebuilt, s => Assert.Empty(s));
    }

    [Fact]
    public void Encode_WrongCountsOrLengths_Throws()
    {
        var codec = new ReedSolomonCodec(3, 2);
        ReadOnlyMemory<byte>[] data = [new byte[8], new byte[8], new byte[8]];
        Memory<byte>[] parity = [new byte[8], new byte[8]];
        Assert.Throws<ArgumentException>(() => codec.Encode(data[..2], parity));
        Assert.Throws<ArgumentException>(() => codec.Encode(data, parity[..1]));
        Assert.Throws<ArgumentException>(() => codec.Encode([new byte[8], new byte[7], new byte[8]], parity));
        Assert.Throws<ArgumentException>(() => codec.Encode(data, [new byte[8], new byte[9]]));
    }

    [Fact]
    public void ReconstructAndVerify_WrongCountsOrLengths_Throw()
    {
        var codec = new ReedSolomonCodec(3, 2);
        Memory<byte>[] shards = [new byte[8], new byte[8], new byte[8], new byte[8], new byte[8]];
        Assert.Throws<ArgumentException>(() => codec.Reconstruct(shards[..4], [true, true, true, false]));
        Assert.Throws<ArgumentException>(() => codec.Reconstruct(shards, [true, true, true, false]));
        Assert.Throws<ArgumentException>(() => codec.Reconstruct([new byte[8], new byte[8], new byte[8], new byte[8], new byte[3]], [true, true, true, true, false]));
        Assert.Throws<ArgumentException>(() => codec.Verify([new byte[8], new byte[8], new byte[8], new byte[8]]));
        Assert.Throws<ArgumentException>(() => codec.Verify([new byte[8], new byte[8], new byte[8], new byte[8], new byte[1]]));
    }

    [Fact]
    public void Reconstruct_RepeatedPattern_ReusesOneCachedDecodeMatrix()
    {
        var codec = new ReedSolomonCodec(5, 3);
        var random = new Random(6);
        for (var stripeIndex = 0; stripeIndex < 10; stripeIndex++)
        {
            var stripe = EncodeStripe(codec, RandomShards(random, 5, 128));
            var rebuilt = EraseAndReconstruct(codec, stripe, [1, 2], dataOnly: stripeIndex % 2 == 0);
            Assert.Equal(stripe[1], rebuilt[1]);
            Assert.Equal(stripe[2], rebuilt[2]);
        }

        Assert.Equal(1, codec.CachedDecodePatterns);
    }

    [Fact]
    public void Reconstruct_ManyPatterns_CacheStaysBounded()
    {
        var codec = new ReedSolomonCodec(10, 4);
        var stripe = EncodeStripe(codec, RandomShards(new Random(7), 10, 64));
        foreach (var erased in Combinations(14, 4))
        {
            var rebuilt = EraseAndReconstruct(codec, stripe, erased, dataOnly: false);
            Assert.Equal(stripe[erased[0]], rebuilt[erased[0]]);
        }

        Assert.InRange(codec.CachedDecodePatterns, 1, 64);
    }

    [Fact]
    public void EncodeAndReconstruct_AfterWarmUp_AllocateNothing()
    {
        const int Size = 64 * 1024;
        var codec = new ReedSolomonCodec(10, 4);
        var random = new Random(8);
        var buffers = RandomShards(random, 14, Size);
        var data = buffers[..10].Select(b => (ReadOnlyMemory<byte>)b).ToArray();
        var parity = buffers[10..].Select(b => (Memory<byte>)b).ToArray();
        var all = buffers.Select(b => (Memory<byte>)b).ToArray();
        var present = Enumerable.Repeat(true, 14).ToArray();
        present[2] = false;
        present[11] = false;

        codec.Encode(data, parity);
        codec.Reconstruct(all, present);
        codec.ReconstructData(all, present);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 5; i++)
        {
            codec.Encode(data, parity);
            codec.Reconstruct(all, present);
            codec.ReconstructData(all, present);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Reconstruct_ConcurrentCallersWithDifferentPatterns_AllCorrect()
    {
        var codec = new ReedSolomonCodec(6, 3);
        var stripe = EncodeStripe(codec, RandomShards(new Random(9), 6, 4096));
        var patterns = Combinations(9, 3).ToArray();
        var tasks = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var i = worker; i < patterns.Length; i += 2)
            {
                var rebuilt = EraseAndReconstruct(codec, stripe, patterns[i], dataOnly: false);
                foreach (var e in patterns[i])
                {
                    Assert.Equal(stripe[e], rebuilt[e]);
                }
            }
        }));
        await Task.WhenAll(tasks);
    }
}
