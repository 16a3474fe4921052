using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// Runs a matrix-times-shards product with a kernel: output row o = XOR over i of coef(o, i) * input i. Output rows
/// are processed in register-sized groups; when there is more than one group the shard length is cut into chunks
/// small enough that one chunk of every input stays in cache while all groups pass over it.
/// </summary>
internal static unsafe class CodecDriver
{
    /// <summary>Bytes of all inputs together that a chunk may span (kept well inside a per-core L2).</summary>
    private const int ChunkBudgetBytes = 256 * 1024;
    private const int MinChunk = 4 * 1024;
    private const int MaxChunk = 64 * 1024;

    public static void Run(
        GfKernelKind kernel, byte** inputs, int inputCount, byte** outputs, byte** tables, byte** coefficients, int outputCount, nint length)
    {
        switch (kernel)
        {
            case GfKernelKind.Scalar: Run<ScalarKernel>(inputs, inputCount, outputs, tables, coefficients, outputCount, length); break;
            case GfKernelKind.Vector128: Run<Vector128Kernel>(inputs, inputCount, outputs, tables, coefficients, outputCount, length); break;
            case GfKernelKind.Avx2: Run<Avx2Kernel>(inputs, inputCount, outputs, tables, coefficients, outputCount, length); break;
            case GfKernelKind.Avx512: Run<Avx512Kernel>(inputs, inputCount, outputs, tables, coefficients, outputCount, length); break;
            case GfKernelKind.GfniAvx2: Run<GfniAvx2Kernel>(inputs, inputCount, outputs, tables, coefficients, outputCount, length); break;
            case GfKernelKind.GfniAvx512: Run<GfniAvx512Kernel>(inputs, inputCount, outputs, tables, coefficients, outputCount, length); break;
            default: throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Unknown kernel.");
        }
    }

    /// <summary>
    /// <paramref name="tables"/>[o] and <paramref name="coefficients"/>[o] point at output row o's expanded tables and raw
    /// coefficients (inputCount entries each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TKernel>(
        byte** inputs, int inputCount, byte** outputs, byte** tables, byte** coefficients, int outputCount, nint length)
        where TKernel : struct, IGfKernel
    {
        if (length <= 0 || outputCount <= 0)
        {
            return;
        }

        if (length < TKernel.MinLength)
        {
            // Too short for one vector: the reference kernel (its "tables" are the raw coefficients).
            ScalarKernel.DotProduct(inputs, inputCount, outputs, coefficients, outputCount, 0, length);
            return;
        }

        var groups = (outputCount + TKernel.MaxOutputs - 1) / TKernel.MaxOutputs;
        nint chunk = groups == 1 ? length : Math.Clamp(ChunkBudgetBytes / inputCount, MinChunk, MaxChunk);
        for (nint offset = 0; offset < length;)
        {
            var run = Math.Min(chunk, length - offset);
            if (length - offset - run < TKernel.MinLength)
            {
                // Fold a remainder shorter than a vector into this run, so every kernel call gets at least one vector.
                run = length - offset;
            }

            for (var o = 0; o < outputCount; o += TKernel.MaxOutputs)
            {
                TKernel.DotProduct(inputs, inputCount, outputs + o, tables + o, Math.Min(TKernel.MaxOutputs, outputCount - o), offset, run);
            }

            offset += run;
        }
    }
}
