using Xmbl.Cluster.Storage.Codec;
using Xmbl.Cluster.Storage.Codec.Internal;
using static Xmbl.Cluster.Storage.Tests.Codec.CodecTestHelpers;

namespace Xmbl.Cluster.Storage.Tests.Codec;

/// <summary>
/// Byte-for-byte compatibility with klauspost/reedsolomon (and so Backblaze and reed-solomon-erasure) on the shared
/// vectors, under every kernel this machine supports.
/// </summary>
[Trait("Suite", "Spec")]
public sealed class ReedSolomonCodecCompatibilityTests
{
    // Byte budget of reconstruction work per vector and kernel: beyond it erasure patterns are sampled.
    private const long ReconstructBudgetBytes = 4L * 1024 * 1024;
    private const int MaxPatterns = 300;
    private const int MatrixWorkBudget = 4_000_000;

    public static TheoryData<string> Vectors => EcVectors.Names;

    [Theory]
    [MemberData(nameof(Vectors))]
    public void VectorFile_DataShards_MatchDocumentedGenerator(string file)
    {
        var vector = EcVectors.Get(file);
        var shards = vector.LoadShards();
        var generated = vector.GenerateData();
        for (var i = 0; i < vector.K; i++)
        {
            Assert.Equal(generated[i], shards[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Encode_VectorData_ReproducesReferenceParityWithEveryKernel(string file)
    {
        var vector = EcVectors.Get(file);
        var shards = vector.LoadShards();
        foreach (var kernel in GfKernels.Supported)
        {
            var codec = new ReedSolomonCodec(vector.K, vector.M, kernel);
            var stripe = EncodeStripe(codec, shards[..vector.K]);
            for (var p = vector.K; p < vector.K + vector.M; p++)
            {
                Assert.True(shards[p].AsSpan().SequenceEqual(stripe[p]), $"{file}: parity shard {p} differs under kernel {GfKernels.Name(kernel)}.");
            }

            Assert.True(codec.Verify(shards.Select(s => (ReadOnlyMemory<byte>)s).ToArray()));
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Reconstruct_AnyMErasedShards_RebuildsReferenceBytesWithEveryKernel(string file)
    {
        var vector = EcVectors.Get(file);
        var shards = vector.LoadShards();
        var n = vector.K + vector.M;
        var perPattern = Math.Max(1L, (long)vector.ShardSize * n);
        var limit = (int)Math.Clamp(ReconstructBudgetBytes / perPattern, 8, MaxPatterns);

        // Each new pattern inverts a k x k matrix (k^3 work); keep that bounded too for the very wide vectors.
        limit = Math.Min(limit, Math.Max(16, MatrixWorkBudget / (vector.K * vector.K * vector.K)));
        foreach (var kernel in GfKernels.Supported)
        {
            var codec = new ReedSolomonCodec(vector.K, vector.M, kernel);
            foreach (var erased in ErasurePatterns(n, vector.M, limit, seed: vector.K * 1000 + vector.M))
            {
                var rebuilt = EraseAndReconstruct(codec, shards, erased, dataOnly: false);
                foreach (var e in erased)
                {
                    Assert.True(
                        shards[e].AsSpan().SequenceEqual(rebuilt[e]),
                        $"{file}: shard {e} wrong after erasing [{string.Join(',', erased)}] under kernel {GfKernels.Name(kernel)}.");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void ReconstructData_ErasedDataShards_RebuildsReferenceBytes(string file)
    {
        var vector = EcVectors.Get(file);
        var shards = vector.LoadShards();
        var codec = new ReedSolomonCodec(vector.K, vector.M);
        var erasedCount = Math.Min(vector.K, vector.M);
        foreach (var erased in ErasurePatterns(vector.K, erasedCount, limit: 64, seed: vector.K))
        {
            var rebuilt = EraseAndReconstruct(codec, shards, erased, dataOnly: true);
            for (var i = 0; i < vector.K; i++)
            {
                Assert.True(shards[i].AsSpan().SequenceEqual(rebuilt[i]), $"{file}: data shard {i} wrong after erasing [{string.Join(',', erased)}].");
            }
        }
    }
}
