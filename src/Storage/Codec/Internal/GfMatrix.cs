namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>A small dense matrix over GF(2^8), row-major. Used to build coding and decoding matrices, never per byte.</summary>
internal sealed class GfMatrix
{
    private readonly byte[] _data;

    public GfMatrix(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        Rows = rows;
        Columns = columns;
        _data = new byte[rows * columns];
    }

    public int Rows { get; }

    public int Columns { get; }

    public byte this[int row, int column]
    {
        get => _data[(row * Columns) + column];
        set => _data[(row * Columns) + column] = value;
    }

    /// <summary>Returns one row as a span over the backing storage.</summary>
    public ReadOnlySpan<byte> Row(int row) => _data.AsSpan(row * Columns, Columns);

    public static GfMatrix Identity(int size)
    {
        var m = new GfMatrix(size, size);
        for (var i = 0; i < size; i++)
        {
            m[i, i] = 1;
        }

        return m;
    }

    /// <summary>The (rows x columns) Vandermonde matrix with entry r^c, as in Backblaze JavaReedSolomon.</summary>
    public static GfMatrix Vandermonde(int rows, int columns)
    {
        var m = new GfMatrix(rows, columns);
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                m[r, c] = GaloisField.Pow((byte)r, c);
            }
        }

        return m;
    }

    /// <summary>
    /// The systematic coding matrix of Backblaze / klauspost / reed-solomon-erasure: the (k+m) x k Vandermonde matrix
    /// multiplied by the inverse of its top k x k square, so the top k rows are the identity.
    /// </summary>
    public static GfMatrix BuildSystematic(int dataShards, int totalShards)
    {
        var vandermonde = Vandermonde(totalShards, dataShards);
        var top = vandermonde.SubMatrix(0, 0, dataShards, dataShards);
        return vandermonde.Multiply(top.Invert());
    }

    public GfMatrix Multiply(GfMatrix right)
    {
        if (Columns != right.Rows)
        {
            throw new ArgumentException($"Cannot multiply a {Rows}x{Columns} matrix by a {right.Rows}x{right.Columns} matrix.", nameof(right));
        }

        var result = new GfMatrix(Rows, right.Columns);
        for (var r = 0; r < Rows; r++)
        {
            // result row r = XOR over i of this[r, i] * right row i.
            var target = result._data.AsSpan(r * result.Columns, result.Columns);
            for (var i = 0; i < Columns; i++)
            {
                var factor = this[r, i];
                if (factor != 0)
                {
                    MulAdd(target, right.Row(i), factor);
                }
            }
        }

        return result;
    }

    /// <summary>target += factor * source, element-wise.</summary>
    private static void MulAdd(Span<byte> target, ReadOnlySpan<byte> source, byte factor)
    {
        var products = GaloisField.MulTable.AsSpan(factor << 8, 256);
        for (var c = 0; c < target.Length; c++)
        {
            target[c] ^= products[source[c]];
        }
    }

    public GfMatrix SubMatrix(int rowStart, int columnStart, int rowEnd, int columnEnd)
    {
        var result = new GfMatrix(rowEnd - rowStart, columnEnd - columnStart);
        for (var r = rowStart; r < rowEnd; r++)
        {
            for (var c = columnStart; c < columnEnd; c++)
            {
                result[r - rowStart, c - columnStart] = this[r, c];
            }
        }

        return result;
    }

    /// <summary>Returns the matrix made of the given rows of this one, in the given order.</summary>
    public GfMatrix SelectRows(ReadOnlySpan<int> rows)
    {
        var result = new GfMatrix(rows.Length, Columns);
        for (var i = 0; i < rows.Length; i++)
        {
            Row(rows[i]).CopyTo(result._data.AsSpan(i * Columns, Columns));
        }

        return result;
    }

    /// <summary>Gauss-Jordan inversion; throws <see cref="InvalidOperationException"/> when the matrix is singular.</summary>
    public GfMatrix Invert()
    {
        if (Rows != Columns)
        {
            throw new InvalidOperationException($"Only square matrices can be inverted; this one is {Rows}x{Columns}.");
        }

        var n = Rows;
        var work = new GfMatrix(n, n);
        _data.CopyTo(work._data, 0);
        var inverse = Identity(n);

        for (var col = 0; col < n; col++)
        {
            // Find a pivot row with a non-zero entry in this column and swap it into place.
            var pivot = col;
            while (pivot < n && work[pivot, col] == 0)
            {
                pivot++;
            }

            if (pivot == n)
            {
                throw new InvalidOperationException("The matrix is singular.");
            }

            if (pivot != col)
            {
                work.SwapRows(pivot, col);
                inverse.SwapRows(pivot, col);
            }

            // Scale the pivot row so the pivot is 1.
            var scale = GaloisField.Inverse(work[col, col]);
            if (scale != 1)
            {
                work.ScaleRow(col, scale);
                inverse.ScaleRow(col, scale);
            }

            // Eliminate this column from every other row.
            for (var r = 0; r < n; r++)
            {
                var factor = work[r, col];
                if (r != col && factor != 0)
                {
                    work.AddScaledRow(r, col, factor);
                    inverse.AddScaledRow(r, col, factor);
                }
            }
        }

        return inverse;
    }

    public bool IsIdentity()
    {
        if (Rows != Columns)
        {
            return false;
        }

        for (var r = 0; r < Rows; r++)
        {
            for (var c = 0; c < Columns; c++)
            {
                if (this[r, c] != (r == c ? 1 : 0))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private void SwapRows(int a, int b)
    {
        for (var c = 0; c < Columns; c++)
        {
            (this[a, c], this[b, c]) = (this[b, c], this[a, c]);
        }
    }

    private void ScaleRow(int row, byte factor)
    {
        var products = GaloisField.MulTable.AsSpan(factor << 8, 256);
        var values = _data.AsSpan(row * Columns, Columns);
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = products[values[c]];
        }
    }

    // row[target] += factor * row[source]
    private void AddScaledRow(int target, int source, byte factor)
        => MulAdd(_data.AsSpan(target * Columns, Columns), Row(source), factor);
}
