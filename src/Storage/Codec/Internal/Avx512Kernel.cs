using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>Split-nibble kernel on 512-bit vectors with AVX-512BW vpshufb, for AVX-512 CPUs without GFNI.</summary>
/// <remarks>
/// Each call keeps up to MaxOutputs output rows in registers, streams every input once and stores each output once
/// (the ISA-L dot-product shape). The last vector of a run is moved back to end exactly at the run end; it overlaps
/// bytes already written, which is harmless because outputs are stored, not accumulated.
/// </remarks>
internal readonly unsafe struct Avx512Kernel : IGfKernel
{
    public static bool IsSupported => Avx512BW.IsSupported;

    public static int TableStride => 32;

    public static int MinLength => 64;

    public static int MaxOutputs => 8;

    public static void Expand(byte coefficient, Span<byte> destination) => KernelTables.ExpandNibbles(coefficient, destination);

    public static void DotProduct(byte** inputs, int inputCount, byte** outputs, byte** tables, int outputCount, nint offset, nint length)
    {
        switch (outputCount)
        {
            case 1: Dot<Const1>(inputs, inputCount, outputs, tables, offset, length); break;
            case 2: Dot<Const2>(inputs, inputCount, outputs, tables, offset, length); break;
            case 3: Dot<Const3>(inputs, inputCount, outputs, tables, offset, length); break;
            case 4: Dot<Const4>(inputs, inputCount, outputs, tables, offset, length); break;
            case 5: Dot<Const5>(inputs, inputCount, outputs, tables, offset, length); break;
            case 6: Dot<Const6>(inputs, inputCount, outputs, tables, offset, length); break;
            case 7: Dot<Const7>(inputs, inputCount, outputs, tables, offset, length); break;
            case 8: Dot<Const8>(inputs, inputCount, outputs, tables, offset, length); break;
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
        var o4 = n > 4 ? outputs[4] + offset : null;
        var t4 = n > 4 ? tables[4] : null;
        var o5 = n > 5 ? outputs[5] + offset : null;
        var t5 = n > 5 ? tables[5] : null;
        var o6 = n > 6 ? outputs[6] + offset : null;
        var t6 = n > 6 ? tables[6] : null;
        var o7 = n > 7 ? outputs[7] + offset : null;
        var t7 = n > 7 ? tables[7] : null;
        var mask = Vector512.Create((byte)0x0F);
        nint p = 0;
        while (true)
        {
            var a0 = Vector512<byte>.Zero;
            var a1 = Vector512<byte>.Zero;
            var a2 = Vector512<byte>.Zero;
            var a3 = Vector512<byte>.Zero;
            var a4 = Vector512<byte>.Zero;
            var a5 = Vector512<byte>.Zero;
            var a6 = Vector512<byte>.Zero;
            var a7 = Vector512<byte>.Zero;
            nint t = 0;
            for (var i = 0; i < inputCount; i++, t += 32)
            {
                var x = Vector512.Load(inputs[i] + offset + p);
                var lo = x & mask;
                var hi = Avx512BW.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & mask;
                a0 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t0 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t0 + t + 16)).AsByte(), hi);
                if (n > 1)
                {
                    a1 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t1 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t1 + t + 16)).AsByte(), hi);
                }
                if (n > 2)
                {
                    a2 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t2 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t2 + t + 16)).AsByte(), hi);
                }
                if (n > 3)
                {
                    a3 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t3 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t3 + t + 16)).AsByte(), hi);
                }
                if (n > 4)
                {
                    a4 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t4 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t4 + t + 16)).AsByte(), hi);
                }
                if (n > 5)
                {
                    a5 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t5 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t5 + t + 16)).AsByte(), hi);
                }
                if (n > 6)
                {
                    a6 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t6 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t6 + t + 16)).AsByte(), hi);
                }
                if (n > 7)
                {
                    a7 ^= Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t7 + t)).AsByte(), lo) ^ Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)(t7 + t + 16)).AsByte(), hi);
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
            if (n > 4)
            {
                a4.Store(o4 + p);
            }
            if (n > 5)
            {
                a5.Store(o5 + p);
            }
            if (n > 6)
            {
                a6.Store(o6 + p);
            }
            if (n > 7)
            {
                a7.Store(o7 + p);
            }

            if (p + 64 >= length)
            {
                return;
            }

            p += 64;
            if (p + 64 > length)
            {
                p = length - 64;
            }
        }
    }
}
