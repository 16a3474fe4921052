using Xmbl.Cluster.Storage.Codec;
using Xmbl.Cluster.Storage.Codec.Internal;
using static Xmbl.Cluster.Storage.Tests.Codec.CodecTestHelpers;

namespace Xmbl.Cluster.Storage.Tests.Codec;

/// <summary>Every SIMD kernel against the scalar reference, on random shapes, sizes and data.</summary>
[Trait("Suite", "Functional")]
public sealed class GfKernelsTests
{
    public static TheoryData<string> Kernels => SupportedKernelNames;

    // Sizes around every vector width (16, 32, 64), the chunk sizes of the driver and odd lengths.
    private static readonly int[] Sizes =
        [0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 1000, 4095, 4096, 4097, 65537, 70001];

    [Fact]
    public void Supported_AlwaysContainsScalarAndBest()
    {
        Assert.Contains(GfKernelKind.Scalar, GfKernels.Supported);
        Assert.Contains(GfKernels.Best, GfKernels.Supported);
        Assert.Equal(GfKernels.Name(GfKernels.Best), ReedSolomonCodec.ActiveKernel);
    }

    [Fact]
    public void TryParse_EveryName_RoundTrips()
    {
        foreach (var kind in Enum.GetValues<GfKernelKind>())
        {
            Assert.True(GfKernels.TryParse(GfKernels.Name(kind), out var parsed));
            Assert.Equal(kind, parsed);
        }

        Assert.False(GfKernels.TryParse("no-such-kernel", out _));
    }

    [Fact]
    public void ExpandGfniMatrix_EveryCoefficient_AppliedBitwiseEqualsMultiplication()
    {
        // Apply the bit matrix the way vgf2p8affineqb defines it, in software, for all 256 x 256 products.
        Span<byte> matrix = stackalloc byte[8];
        for (var c = 0; c < 256; c++)
        {
            KernelTables.ExpandGfniMatrix((byte)c, matrix);
            for (var x = 0; x < 256; x++)
            {
                var result = 0;
                for (var i = 0; i < 8; i++)
                {
                    var parity = System.Numerics.BitOperations.PopCount((uint)(matrix[7 - i] & x)) & 1;
                    result |= parity << i;
                }

                Assert.Equal(GaloisField.Mul((byte)c, (byte)x), result);
            }
        }
    }

    [Fact]
    public void ExpandNibbles_EveryCoefficient_LowXorHighEqualsMultiplication()
    {
        Span<byte> table = stackalloc byte[32];
        for (var c = 0; c < 256; c++)
        {
            KernelTables.ExpandNibbles((byte)c, table);
            for (var x = 0; x < 256; x++)
            {
                Assert.Equal(GaloisField.Mul((byte)c, (byte)x), table[x & 15] ^ table[16 + (x >> 4)]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Encode_RandomShapesAndSizes_MatchesScalar(string kernelName)
    {
        var kernel = ParseKernel(kernelName);
        var random = new Random(1234 + (int)kernel);
        foreach (var size in Sizes)
        {
            var k = random.Next(1, 20);
            var m = random.Next(1, 12);
            var data = RandomShards(random, k, size);
            var expected = EncodeStripe(new ReedSolomonCodec(k, m, GfKernelKind.Scalar), data);
            var actual = EncodeStripe(new ReedSolomonCodec(k, m, kernel), data);
            for (var i = 0; i < k + m; i++)
            {
                Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"k={k} m={m} size={size}: shard {i} differs.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Encode_ManyParityRows_MatchesScalarAcrossOutputGroups(string kernelName)
    {
        var kernel = ParseKernel(kernelName);
        // m above every kernel's register group (and k large) exercises grouping and chunking in the driver.
        var random = new Random(99);
        foreach (var (k, m, size) in new[] { (5, 9, 70001), (20, 17, 9000), (2, 25, 333), (100, 30, 4100) })
        {
            var data = RandomShards(random, k, size);
            var expected = EncodeStripe(new ReedSolomonCodec(k, m, GfKernelKind.Scalar), data);
            var actual = EncodeStripe(new ReedSolomonCodec(k, m, kernel), data);
            for (var i = k; i < k + m; i++)
            {
                Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"k={k} m={m} size={size}: parity {i} differs.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Reconstruct_RandomErasures_MatchesOriginalBytes(string kernelName)
    {
        var kernel = ParseKernel(kernelName);
        var random = new Random(4321 + (int)kernel);
        foreach (var size in Sizes)
        {
            var k = random.Next(1, 16);
            var m = random.Next(1, 8);
            var codec = new ReedSolomonCodec(k, m, kernel);
            var stripe = EncodeStripe(new ReedSolomonCodec(k, m, GfKernelKind.Scalar), RandomShards(random, k, size));
            var lost = random.Next(1, m + 1);
            var erased = Enumerable.Range(0, k + m).OrderBy(_ => random.Next()).Take(lost).ToArray();
            var rebuilt = EraseAndReconstruct(codec, stripe, erased, dataOnly: false);
            for (var i = 0; i < k + m; i++)
            {
                Assert.True(stripe[i].AsSpan().SequenceEqual(rebuilt[i]), $"k={k} m={m} size={size} erased=[{string.Join(',', erased)}]: shard {i} differs.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void DotProduct_OverlappingTail_DoesNotWritePastLength(string kernelName)
    {
        var kernel = ParseKernel(kernelName);
        // The vector kernels finish with a vector that ends exactly at the shard end; bytes after it must survive.
        var random = new Random(5);
        foreach (var size in new[] { 17, 33, 65, 100, 1001 })
        {
            var data = RandomShards(random, 3, size);
            var parityBuffers = new[] { new byte[size + 64], new byte[size + 64] };
            foreach (var buffer in parityBuffers)
            {
                Array.Fill(buffer, (byte)0xEE);
            }

            new ReedSolomonCodec(3, 2, kernel).Encode(
                data.Select(d => (ReadOnlyMemory<byte>)d).ToArray(),
                parityBuffers.Select(b => new Memory<byte>(b, 0, size)).ToArray());
            var expected = EncodeStripe(new ReedSolomonCodec(3, 2, GfKernelKind.Scalar), data);
            for (var p = 0; p < 2; p++)
            {
                Assert.True(expected[3 + p].AsSpan().SequenceEqual(parityBuffers[p].AsSpan(0, size)));
                Assert.All(parityBuffers[p].AsSpan(size).ToArray(), b => Assert.Equal(0xEE, b));
            }
        }
    }
}
