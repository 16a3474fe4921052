using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>GFNI kernel on 256-bit vectors: one vgf2p8affineqb per coefficient and vector.</summary>
/// <remarks>
/// Each call keeps up to MaxOutputs output rows in registers, streams every input once and stores each output once
/// (the ISA-L dot-product shape). The last vector of a run is moved back to end exactly at the run end; it overlaps
/// bytes already written, which is harmless because outputs are stored, not accumulated.
/// </remarks>
internal readonly unsafe struct GfniAvx2Kernel : IGfKernel
{
    public static bool IsSupported => Gfni.V256.IsSupported && Avx2.IsSupported;

    public static int TableStride => 8;

    public static int MinLength => 32;

    public static int MaxOutputs => 6;

    public static void Expand(byte coefficient, Span<byte> destination) => KernelTables.ExpandGfniMatrix(coefficient, destination);

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
        nint p = 0;
        while (true)
        {
            var a0 = Vector256<byte>.Zero;
            var a1 = Vector256<byte>.Zero;
            var a2 = Vector256<byte>.Zero;
            var a3 = Vector256<byte>.Zero;
            var a4 = Vector256<byte>.Zero;
            var a5 = Vector256<byte>.Zero;
            nint t = 0;
            for (var i = 0; i < inputCount; i++, t += 8)
            {
                var x = Vector256.Load(inputs[i] + offset + p);
                a0 ^= Gfni.V256.GaloisFieldAffineTransform(x, Vector256.Create(*(ulong*)(t0 + t)).AsByte(), 0);
                if (n > 1)
                {
                    a1 ^= Gfni.V256.GaloisFieldAffineTransform(x, Vector256.Create(*(ulong*)(t1 + t)).AsByte(), 0);
                }
                if (n > 2)
                {
                    a2 ^= Gfni.V256.GaloisFieldAffineTransform(x, Vector256.Create(*(ulong*)(t2 + t)).AsByte(), 0);
                }
                if (n > 3)
                {
                    a3 ^= Gfni.V256.GaloisFieldAffineTransform(x, Vector256.Create(*(ulong*)(t3 + t)).AsByte(), 0);
                }
                if (n > 4)
                {
                    a4 ^= Gfni.V256.GaloisFieldAffineTransform(x, Vector256.Create(*(ulong*)(t4 + t)).AsByte(), 0);
                }
                if (n > 5)
                {
                    a5 ^= Gfni.V256.GaloisFieldAffineTransform(x, Vector256.Create(*(ulong*)(t5 + t)).AsByte(), 0);
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
