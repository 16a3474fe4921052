using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>Split-nibble kernel on 256-bit vectors with AVX2 vpshufb (the ISA-L / klauspost technique).</summary>
/// <remarks>
/// Each call keeps up to MaxOutputs output rows in registers, streams every input once and stores each output once
/// (the ISA-L dot-product shape). The last vector of a run is moved back to end exactly at the run end; it overlaps
/// bytes already written, which is harmless because outputs are stored, not accumulated.
/// </remarks>
internal readonly unsafe struct Avx2Kernel : IGfKernel
{
    public static bool IsSupported => Avx2.IsSupported;

    public static int TableStride => 32;

    public static int MinLength => 32;

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
        var mask = Vector256.Create((byte)0x0F);
        nint p = 0;
        while (true)
        {
            var a0 = Vector256<byte>.Zero;
            var a1 = Vector256<byte>.Zero;
            var a2 = Vector256<byte>.Zero;
            var a3 = Vector256<byte>.Zero;
            nint t = 0;
            for (var i = 0; i < inputCount; i++, t += 32)
            {
                var x = Vector256.Load(inputs[i] + offset + p);
                var lo = x & mask;
                var hi = Avx2.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & mask;
                a0 ^= Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t0 + t), lo) ^ Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t0 + t + 16), hi);
                if (n > 1)
                {
                    a1 ^= Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t1 + t), lo) ^ Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t1 + t + 16), hi);
                }
                if (n > 2)
                {
                    a2 ^= Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t2 + t), lo) ^ Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t2 + t + 16), hi);
                }
                if (n > 3)
                {
                    a3 ^= Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t3 + t), lo) ^ Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(t3 + t + 16), hi);
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

            if (p + 32 >= length)
            {
                return;
            }

            p += 32;
            if (p + 32 > length)
            {
                p = length - 32;
            }
        }
    }
}
