using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// The portable reference kernel: one 256-byte row of the product table per coefficient. Every SIMD kernel is tested
/// against this one, and the vector kernels hand it runs shorter than their vector width.
/// </summary>
internal readonly unsafe struct ScalarKernel : IGfKernel
{
    // A copy of the product table on the pinned object heap: it never moves, so the raw pointer stays valid.
    private static readonly byte[] PinnedMulTable = PinMulTable();
    private static readonly byte* MulTablePointer = (byte*)Unsafe.AsPointer(ref PinnedMulTable[0]);

    public static bool IsSupported => true;

    // The expanded form is the coefficient itself; the product-table row is found from it.
    public static int TableStride => 1;

    public static int MinLength => 1;

    public static int MaxOutputs => 1;

    public static void Expand(byte coefficient, Span<byte> destination) => destination[0] = coefficient;

    [SkipLocalsInit]
    public static void DotProduct(byte** inputs, int inputCount, byte** outputs, byte** tables, int outputCount, nint offset, nint length)
    {
        for (var o = 0; o < outputCount; o++)
        {
            var output = outputs[o] + offset;
            var coefficients = tables[o];
            MulRow(MulTablePointer + (coefficients[0] << 8), inputs[0] + offset, output, length);
            for (var i = 1; i < inputCount; i++)
            {
                MulAddRow(MulTablePointer + (coefficients[i] << 8), inputs[i] + offset, output, length);
            }
        }
    }

    private static void MulRow(byte* row, byte* input, byte* output, nint length)
    {
        nint p = 0;
        for (; p + 4 <= length; p += 4)
        {
            output[p] = row[input[p]];
            output[p + 1] = row[input[p + 1]];
            output[p + 2] = row[input[p + 2]];
            output[p + 3] = row[input[p + 3]];
        }

        for (; p < length; p++)
        {
            output[p] = row[input[p]];
        }
    }

    private static void MulAddRow(byte* row, byte* input, byte* output, nint length)
    {
        nint p = 0;
        for (; p + 4 <= length; p += 4)
        {
            output[p] ^= row[input[p]];
            output[p + 1] ^= row[input[p + 1]];
            output[p + 2] ^= row[input[p + 2]];
            output[p + 3] ^= row[input[p + 3]];
        }

        for (; p < length; p++)
        {
            output[p] ^= row[input[p]];
        }
    }

    private static byte[] PinMulTable()
    {
        var pinned = GC.AllocateUninitializedArray<byte>(GaloisField.MulTable.Length, pinned: true);
        GaloisField.MulTable.CopyTo(pinned, 0);
        return pinned;
    }
}
