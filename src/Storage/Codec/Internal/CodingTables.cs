using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// Rows of a coding matrix in the two forms the driver needs: the raw coefficients (for the scalar tail) and the
/// kernel's expanded lookup form. Both live on the pinned object heap, so raw row pointers stay valid for as long as
/// this object is reachable (callers keep it alive across a run with <see cref="GC.KeepAlive"/>).
/// </summary>
internal sealed unsafe class CodingTables
{
    private readonly byte[] _coefficients;
    private readonly byte[] _expanded;
    private readonly int _stride;

    public CodingTables(GfMatrix matrix, int firstRow, int rowCount, GfKernelKind kernel)
    {
        Rows = rowCount;
        Columns = matrix.Columns;
        Kernel = kernel;
        _stride = GfKernels.TableStride(kernel);
        _coefficients = GC.AllocateArray<byte>(Math.Max(1, rowCount * Columns), pinned: true);
        _expanded = GC.AllocateArray<byte>(Math.Max(1, rowCount * Columns * _stride), pinned: true);
        for (var r = 0; r < rowCount; r++)
        {
            for (var c = 0; c < Columns; c++)
            {
                var coefficient = matrix[firstRow + r, c];
                _coefficients[(r * Columns) + c] = coefficient;
                GfKernels.Expand(kernel, coefficient, _expanded.AsSpan(((r * Columns) + c) * _stride, _stride));
            }
        }
    }

    public int Rows { get; }

    public int Columns { get; }

    public GfKernelKind Kernel { get; }

    /// <summary>Approximate memory held, for cache budgeting.</summary>
    public long SizeInBytes => _coefficients.Length + (long)_expanded.Length;

    public byte Coefficient(int row, int column) => _coefficients[(row * Columns) + column];

    public byte* CoefficientRow(int row) => (byte*)Unsafe.AsPointer(ref _coefficients[row * Columns]);

    public byte* ExpandedRow(int row) => (byte*)Unsafe.AsPointer(ref _expanded[row * Columns * _stride]);
}
