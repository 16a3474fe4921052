using Xmbl.Cluster.Storage.Codec;
using Xmbl.Cluster.Storage.Codec.Internal;

namespace Xmbl.Cluster.Storage.Tests.Codec;

internal static class CodecTestHelpers
{
    /// <summary>xunit member data: the name of every kernel this machine can run.</summary>
    public static TheoryData<string> SupportedKernelNames
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var kind in GfKernels.Supported)
            {
                data.Add(GfKernels.Name(kind));
            }

            return data;
        }
    }

    public static GfKernelKind ParseKernel(string name)
        => GfKernels.TryParse(name, out var kind) ? kind : throw new ArgumentException($"Unknown kernel '{name}'.", nameof(name));

    public static byte[][] RandomShards(Random random, int count, int size)
    {
        var shards = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            shards[i] = new byte[size];
            random.NextBytes(shards[i]);
        }

        return shards;
    }

    /// <summary>Encodes <paramref name="data"/> and returns all k + m shards (fresh arrays).</summary>
    public static byte[][] EncodeStripe(ReedSolomonCodec codec, byte[][] data)
    {
        var size = data[0].Length;
        var parity = new byte[codec.ParityShards][];
        for (var i = 0; i < parity.Length; i++)
        {
            parity[i] = new byte[size];
        }

        codec.Encode(data.Select(d => (ReadOnlyMemory<byte>)d).ToArray(), parity.Select(p => (Memory<byte>)p).ToArray());
        return [.. data, .. parity];
    }

    /// <summary>Copies the stripe, scribbles over the erased shards, reconstructs, and returns the result.</summary>
    public static byte[][] EraseAndReconstruct(ReedSolomonCodec codec, byte[][] stripe, IReadOnlyCollection<int> erased, bool dataOnly)
    {
        var copy = stripe.Select(s => (byte[])s.Clone()).ToArray();
        var present = new bool[copy.Length];
        Array.Fill(present, true);
        foreach (var e in erased)
        {
            present[e] = false;
            Array.Fill(copy[e], (byte)0xA5);
        }

        var memories = copy.Select(s => (Memory<byte>)s).ToArray();
        if (dataOnly)
        {
            codec.ReconstructData(memories, present);
        }
        else
        {
            codec.Reconstruct(memories, present);
        }

        return copy;
    }

    /// <summary>All combinations of <paramref name="choose"/> indices out of <paramref name="n"/>, in lexicographic order.</summary>
    public static IEnumerable<int[]> Combinations(int n, int choose)
    {
        var indices = Enumerable.Range(0, choose).ToArray();
        while (true)
        {
            yield return (int[])indices.Clone();
            var i = choose - 1;
            while (i >= 0 && indices[i] == n - choose + i)
            {
                i--;
            }

            if (i < 0)
            {
                yield break;
            }

            indices[i]++;
            for (var j = i + 1; j < choose; j++)
            {
                indices[j] = indices[j - 1] + 1;
            }
        }
    }

    public static double CombinationCount(int n, int choose)
    {
        double result = 1;
        for (var i = 0; i < choose; i++)
        {
            result = result * (n - i) / (i + 1);
        }

        return result;
    }

    /// <summary>Every m-subset when there are at most <paramref name="limit"/>, otherwise a seeded random sample of that many.</summary>
    public static IEnumerable<int[]> ErasurePatterns(int n, int m, int limit, int seed)
    {
        if (CombinationCount(n, m) <= limit)
        {
            return Combinations(n, m);
        }

        var random = new Random(seed);
        var sample = new List<int[]>(limit);
        for (var s = 0; s < limit; s++)
        {
            sample.Add([.. Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(m).Order()]);
        }

        return sample;
    }
}
