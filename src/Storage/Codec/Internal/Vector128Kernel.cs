using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>Split-nibble kernel on 128-bit vectors: SSSE3 pshufb on x86, NEON tbl on Arm64.</summary>
/// <remarks>
/// Each call keeps up to MaxOutputs output rows in registers, streams every input once and stores each output once
/// (the ISA-L dot-product shape). The last vector of a run is moved back to end exactly at the run end; it overlaps
/// bytes already written, which is harmless because outputs are stored, not accumulated.
/// </remarks>
internal readonly unsafe struct Vector128Kernel : IGfKernel
{
    public static bool IsSupported => Ssse3.IsSupported || AdvSimd.Arm64.IsSupported;

    public static int TableStride => 32;

    public static int MinLength => 16;

    public static int MaxOutputs => 4;

    public static void Expand(byte coefficient, Span<byte> destination) => KernelTables.ExpandNibbles(coefficient, destination);

    public static void DotProduct(byte** inputs, int inputCount, byte** outputs, byte** tables, int outputCount, nint offset, nint length)
    {
        switch (outputCount)
        {
            case 1: Dot<Const1>(inputs, inputCount, outputs, tables, offset, length); break;
            case 2: Dot<Const2>(inputs, inputCount, outputs, tables, offset, length); break;
            case 3: Dot<Const3>(inputs, inputCount, outputs, tables, offset, length); break;
            case 4: Dot<Const4>(inputs, inputCount, outputs, tables, offset, length); break;
            default: throw new ArgumentOutOfRangeException(nameof(outputCount), outputCount, "Too many outputs for one call.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TCount>(byte** inputs, int inputCount, byte** outputs, byte** tables, nint offset, nint length)
        where TCount : struct, IConstant
    {
        var n = TCount.Value;
        var o0 = outputs[0] + offset;
        var t0 = tables[0];
        var o1 = n > 1 ? outputs[1] + offset : null;
        var t1 = n > 1 ? tables[1] : null;
        var o2 = n > 2 ? outputs[2] + offset : null;
        var t2 = n > 2 ? tables[2] : null;
        var o3 = n > 3 ? outputs[3] + offset : null;
        var t3 = n > 3 ? tables[3] : null;
        var mask = Vector128.Create((byte)0x0F);
        nint p = 0;
        while (true)
        {
            var a0 = Vector128<byte>.Zero;
            var a1 = Vector128<byte>.Zero;
            var a2 = Vector128<byte>.Zero;
            var a3 = Vector128<byte>.Zero;
            nint t = 0;
            for (var i = 0; i < inputCount; i++, t += 32)
            {
                var x = Vector128.Load(inputs[i] + offset + p);
                var lo = x & mask;
                var hi = Vector128.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & mask;
                a0 ^= Lookup(Vector128.Load(t0 + t), lo) ^ Lookup(Vector128.Load(t0 + t + 16), hi);
                if (n > 1)
                {
                    a1 ^= Lookup(Vector128.Load(t1 + t), lo) ^ Lookup(Vector128.Load(t1 + t + 16), hi);
                }
                if (n > 2)
                {
                    a2 ^= Lookup(Vector128.Load(t2 + t), lo) ^ Lookup(Vector128.Load(t2 + t + 16), hi);
                }
                if (n > 3)
                {
                    a3 ^= Lookup(Vector128.Load(t3 + t), lo) ^ Lookup(Vector128.Load(t3 + t + 16), hi);
                }
            }

            a0.Store(o0 + p);
            if (n > 1)
            {
                a1.Store(o1 + p);
            }
            if (n > 2)
            {
                a2.Store(o2 + p);
            }
            if (n > 3)
            {
                a3.Store(o3 + p);
            }

            if (p + 16 >= length)
            {
                return;
            }

            p += 16;
            if (p + 16 > length)
            {
                p = length - 16;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Lookup(Vector128<byte> table, Vector128<byte> indices)
        => Ssse3.IsSupported ? Ssse3.Shuffle(table, indices) : AdvSimd.Arm64.VectorTableLookup(table, indices);
}
