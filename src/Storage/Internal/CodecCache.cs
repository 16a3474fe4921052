using System.Collections.Concurrent;
using Xmbl.Cluster.Storage.Codec;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>One shared codec per (k, m): codecs are thread-safe and cache decode matrices, so sharing them pays.</summary>
internal static class CodecCache
{
    private static readonly ConcurrentDictionary<(int K, int M), ReedSolomonCodec> Codecs = new();

    public static ReedSolomonCodec Get(int dataShards, int parityShards) =>
        Codecs.GetOrAdd((dataShards, parityShards), static key => new ReedSolomonCodec(key.K, key.M));
}
