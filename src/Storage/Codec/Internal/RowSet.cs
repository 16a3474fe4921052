namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>A set of shard indices (0..255) as a 256-bit mask; the key of the decode-matrix cache.</summary>
internal readonly record struct RowSet(ulong W0, ulong W1, ulong W2, ulong W3)
{
    public RowSet With(int index) => (index >> 6) switch
    {
        0 => this with { W0 = W0 | (1UL << index) },
        1 => this with { W1 = W1 | (1UL << (index & 63)) },
        2 => this with { W2 = W2 | (1UL << (index & 63)) },
        3 => this with { W3 = W3 | (1UL << (index & 63)) },
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "Shard indices are below 256."),
    };

    public bool Contains(int index) => (index >> 6) switch
    {
        0 => (W0 & (1UL << index)) != 0,
        1 => (W1 & (1UL << (index & 63))) != 0,
        2 => (W2 & (1UL << (index & 63))) != 0,
        3 => (W3 & (1UL << (index & 63))) != 0,
        _ => false,
    };
}
