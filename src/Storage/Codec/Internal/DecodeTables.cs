namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// Decoding for one choice of k surviving shards: the inverse of their coding-matrix rows, and per target shard the
/// row that rebuilds it from those k shards (data shard i: inverse row i; parity shard p: coding row p times the
/// inverse). Target rows are expanded into kernel tables on first use only, since a pattern usually needs few.
/// Thread-safe: rows are published with a compare-exchange and never change afterwards.
/// </summary>
internal sealed class DecodeTables
{
    private readonly GfMatrix _matrix;
    private readonly GfMatrix _inverse;
    private readonly GfKernelKind _kernel;
    private readonly CodingTables?[] _rows;

    /// <param name="matrix">The (k+m) x k coding matrix.</param>
    /// <param name="survivors">The k shard indices decoding reads from, ascending.</param>
    /// <param name="kernel">The kernel whose table form to build.</param>
    public DecodeTables(GfMatrix matrix, ReadOnlySpan<int> survivors, GfKernelKind kernel)
    {
        _matrix = matrix;
        _inverse = matrix.SelectRows(survivors).Invert();
        _kernel = kernel;
        _rows = new CodingTables?[matrix.Rows];
    }

    /// <summary>The tables that rebuild <paramref name="shard"/> from the survivors (a 1 x k <see cref="CodingTables"/>).</summary>
    public CodingTables Row(int shard) => Volatile.Read(ref _rows[shard]) ?? Build(shard);

    private CodingTables Build(int shard)
    {
        var k = _matrix.Columns;
        var row = shard < k
            ? _inverse.SubMatrix(shard, 0, shard + 1, k)
            : _matrix.SubMatrix(shard, 0, shard + 1, k).Multiply(_inverse);
        var tables = new CodingTables(row, 0, 1, _kernel);
        return Interlocked.CompareExchange(ref _rows[shard], tables, null) ?? tables;
    }
}
