namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// A compile-time integer for struct-generic specialisation: inside a method instantiated over one of these structs the
/// JIT sees <see cref="Value"/> as a constant and removes the branches it guards.
/// </summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

internal readonly struct Const1 : IConstant
{
    public static int Value => 1;
}

internal readonly struct Const2 : IConstant
{
    public static int Value => 2;
}

internal readonly struct Const3 : IConstant
{
    public static int Value => 3;
}

internal readonly struct Const4 : IConstant
{
    public static int Value => 4;
}

internal readonly struct Const5 : IConstant
{
    public static int Value => 5;
}

internal readonly struct Const6 : IConstant
{
    public static int Value => 6;
}

internal readonly struct Const7 : IConstant
{
    public static int Value => 7;
}

internal readonly struct Const8 : IConstant
{
    public static int Value => 8;
}

/// <summary>Builders for the per-coefficient lookup forms the SIMD kernels use.</summary>
internal static class KernelTables
{
    /// <summary>Split-nibble form (32 bytes): [0..16) = c * n and [16..32) = c * (n &lt;&lt; 4) for n in 0..15.</summary>
    public static void ExpandNibbles(byte coefficient, Span<byte> destination)
    {
        for (var n = 0; n < 16; n++)
        {
            destination[n] = GaloisField.Mul(coefficient, (byte)n);
            destination[16 + n] = GaloisField.Mul(coefficient, (byte)(n << 4));
        }
    }

    /// <summary>
    /// GFNI form (8 bytes, one little-endian qword): the 8x8 bit matrix of "multiply by c" for vgf2p8affineqb, which
    /// computes result bit i as the parity of (x AND matrix byte 7 - i). Bit j of that byte is bit i of c * 2^j.
    /// </summary>
    public static void ExpandGfniMatrix(byte coefficient, Span<byte> destination)
    {
        for (var i = 0; i < 8; i++)
        {
            byte row = 0;
            for (var j = 0; j < 8; j++)
            {
                if ((GaloisField.Mul(coefficient, (byte)(1 << j)) & (1 << i)) != 0)
                {
                    row |= (byte)(1 << j);
                }
            }

            destination[7 - i] = row;
        }
    }
}
