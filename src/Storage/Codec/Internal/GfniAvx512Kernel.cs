using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>GFNI kernel on 512-bit vectors: one vgf2p8affineqb per coefficient and 64 bytes.</summary>
/// <remarks>
/// Each call keeps up to MaxOutputs output rows in registers, streams every input once and stores each output once
/// (the ISA-L dot-product shape). The main loop takes two vectors (128 bytes, two cache lines) of every input per
/// step, which keeps more loads in flight on wide shards; the remainder goes one vector at a time, and the last vector
/// is moved back to end exactly at the run end (it overlaps bytes already written, which is harmless because outputs
/// are stored, not accumulated). The 8-byte bit matrix is folded into the instruction as an embedded broadcast.
/// </remarks>
internal readonly unsafe struct GfniAvx512Kernel : IGfKernel
{
    public static bool IsSupported => Gfni.V512.IsSupported && Avx512BW.IsSupported;

    // How far ahead of the current position each input is prefetched. Many inputs (k of 16 and more) are more streams
    // than the hardware prefetchers track, so without this wide stripes on large shards stall on memory.
    private const int PrefetchDistance = 1024;

    public static int TableStride => 8;

    public static int MinLength => 64;

    public static int MaxOutputs => 8;

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
            case 7: Dot<Const7>(inputs, inputCount, outputs, tables, offset, length); break;
            case 8: Dot<Const8>(inputs, inputCount, outputs, tables, offset, length); break;
            default: throw new ArgumentOutOfRangeException(nameof(outputCount), outputCount, "Too many outputs for one call.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Mul(Vector512<byte> x, byte* matrix)
        => Gfni.V512.GaloisFieldAffineTransform(x, Vector512.Create(*(ulong*)matrix).AsByte(), 0);

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
        nint p = 0;
        for (; p + 128 <= length; p += 128)
        {
            var a0 = Vector512<byte>.Zero;
            var a1 = Vector512<byte>.Zero;
            var a2 = Vector512<byte>.Zero;
            var a3 = Vector512<byte>.Zero;
            var a4 = Vector512<byte>.Zero;
            var a5 = Vector512<byte>.Zero;
            var a6 = Vector512<byte>.Zero;
            var a7 = Vector512<byte>.Zero;
            var b0 = Vector512<byte>.Zero;
            var b1 = Vector512<byte>.Zero;
            var b2 = Vector512<byte>.Zero;
            var b3 = Vector512<byte>.Zero;
            var b4 = Vector512<byte>.Zero;
            var b5 = Vector512<byte>.Zero;
            var b6 = Vector512<byte>.Zero;
            var b7 = Vector512<byte>.Zero;
            nint t = 0;
            for (var i = 0; i < inputCount; i++, t += 8)
            {
                var source = inputs[i] + offset + p;
                var x = Vector512.Load(source);
                var y = Vector512.Load(source + 64);
                Sse.Prefetch0(source + PrefetchDistance);
                Sse.Prefetch0(source + PrefetchDistance + 64);
                a0 ^= Mul(x, t0 + t);
                b0 ^= Mul(y, t0 + t);
                if (n > 1)
                {
                    a1 ^= Mul(x, t1 + t);
                    b1 ^= Mul(y, t1 + t);
                }
                if (n > 2)
                {
                    a2 ^= Mul(x, t2 + t);
                    b2 ^= Mul(y, t2 + t);
                }
                if (n > 3)
                {
                    a3 ^= Mul(x, t3 + t);
                    b3 ^= Mul(y, t3 + t);
                }
                if (n > 4)
                {
                    a4 ^= Mul(x, t4 + t);
                    b4 ^= Mul(y, t4 + t);
                }
                if (n > 5)
                {
                    a5 ^= Mul(x, t5 + t);
                    b5 ^= Mul(y, t5 + t);
                }
                if (n > 6)
                {
                    a6 ^= Mul(x, t6 + t);
                    b6 ^= Mul(y, t6 + t);
                }
                if (n > 7)
                {
                    a7 ^= Mul(x, t7 + t);
                    b7 ^= Mul(y, t7 + t);
                }
            }

            a0.Store(o0 + p);
            b0.Store(o0 + p + 64);
            if (n > 1)
            {
                a1.Store(o1 + p);
                b1.Store(o1 + p + 64);
            }
            if (n > 2)
            {
                a2.Store(o2 + p);
                b2.Store(o2 + p + 64);
            }
            if (n > 3)
            {
                a3.Store(o3 + p);
                b3.Store(o3 + p + 64);
            }
            if (n > 4)
            {
                a4.Store(o4 + p);
                b4.Store(o4 + p + 64);
            }
            if (n > 5)
            {
                a5.Store(o5 + p);
                b5.Store(o5 + p + 64);
            }
            if (n > 6)
            {
                a6.Store(o6 + p);
                b6.Store(o6 + p + 64);
            }
            if (n > 7)
            {
                a7.Store(o7 + p);
                b7.Store(o7 + p + 64);
            }
        }

        while (p < length)
        {
            if (p + 64 > length)
            {
                p = length - 64;
            }

            var a0 = Vector512<byte>.Zero;
            var a1 = Vector512<byte>.Zero;
            var a2 = Vector512<byte>.Zero;
            var a3 = Vector512<byte>.Zero;
            var a4 = Vector512<byte>.Zero;
            var a5 = Vector512<byte>.Zero;
            var a6 = Vector512<byte>.Zero;
            var a7 = Vector512<byte>.Zero;
            nint t = 0;
            for (var i = 0; i < inputCount; i++, t += 8)
            {
                var x = Vector512.Load(inputs[i] + offset + p);
                a0 ^= Mul(x, t0 + t);
                if (n > 1)
                {
                    a1 ^= Mul(x, t1 + t);
                }
                if (n > 2)
                {
                    a2 ^= Mul(x, t2 + t);
                }
                if (n > 3)
                {
                    a3 ^= Mul(x, t3 + t);
                }
                if (n > 4)
                {
                    a4 ^= Mul(x, t4 + t);
                }
                if (n > 5)
                {
                    a5 ^= Mul(x, t5 + t);
                }
                if (n > 6)
                {
                    a6 ^= Mul(x, t6 + t);
                }
                if (n > 7)
                {
                    a7 ^= Mul(x, t7 + t);
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
            p += 64;
        }
    }
}
