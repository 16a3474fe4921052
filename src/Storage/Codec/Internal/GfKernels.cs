namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>Kernel detection, naming and non-generic dispatch.</summary>
internal static class GfKernels
{
    /// <summary>The fastest kernel this machine supports.</summary>
    public static readonly GfKernelKind Best = DetectBest();

    /// <summary>Every kernel this machine supports, scalar first.</summary>
    public static IReadOnlyList<GfKernelKind> Supported { get; } = Enum.GetValues<GfKernelKind>().Where(IsSupported).ToArray();

    public static bool IsSupported(GfKernelKind kind) => kind switch
    {
        GfKernelKind.Scalar => ScalarKernel.IsSupported,
        GfKernelKind.Vector128 => Vector128Kernel.IsSupported,
        GfKernelKind.Avx2 => Avx2Kernel.IsSupported,
        GfKernelKind.Avx512 => Avx512Kernel.IsSupported,
        GfKernelKind.GfniAvx2 => GfniAvx2Kernel.IsSupported,
        GfKernelKind.GfniAvx512 => GfniAvx512Kernel.IsSupported,
        _ => false,
    };

    public static string Name(GfKernelKind kind) => kind switch
    {
        GfKernelKind.Scalar => "scalar",
        GfKernelKind.Vector128 => "ssse3/vector128",
        GfKernelKind.Avx2 => "avx2",
        GfKernelKind.Avx512 => "avx512bw",
        GfKernelKind.GfniAvx2 => "gfni-avx2",
        GfKernelKind.GfniAvx512 => "gfni-avx512",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kernel."),
    };

    /// <summary>Parses a name produced by <see cref="Name"/> (ordinal, case-insensitive).</summary>
    public static bool TryParse(string name, out GfKernelKind kind)
    {
        foreach (var candidate in Enum.GetValues<GfKernelKind>())
        {
            if (string.Equals(Name(candidate), name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(candidate.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }

        kind = GfKernelKind.Scalar;
        return false;
    }

    public static int TableStride(GfKernelKind kind) => kind switch
    {
        GfKernelKind.Scalar => ScalarKernel.TableStride,
        GfKernelKind.Vector128 => Vector128Kernel.TableStride,
        GfKernelKind.Avx2 => Avx2Kernel.TableStride,
        GfKernelKind.Avx512 => Avx512Kernel.TableStride,
        GfKernelKind.GfniAvx2 => GfniAvx2Kernel.TableStride,
        GfKernelKind.GfniAvx512 => GfniAvx512Kernel.TableStride,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kernel."),
    };

    public static void Expand(GfKernelKind kind, byte coefficient, Span<byte> destination)
    {
        switch (kind)
        {
            case GfKernelKind.Scalar: ScalarKernel.Expand(coefficient, destination); break;
            case GfKernelKind.Vector128: Vector128Kernel.Expand(coefficient, destination); break;
            case GfKernelKind.Avx2: Avx2Kernel.Expand(coefficient, destination); break;
            case GfKernelKind.Avx512: Avx512Kernel.Expand(coefficient, destination); break;
            case GfKernelKind.GfniAvx2: GfniAvx2Kernel.Expand(coefficient, destination); break;
            case GfKernelKind.GfniAvx512: GfniAvx512Kernel.Expand(coefficient, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kernel.");
        }
    }

    private static GfKernelKind DetectBest()
    {
        // Widest first; GFNI needs one instruction per coefficient where the nibble method needs five.
        ReadOnlySpan<GfKernelKind> order =
        [
            GfKernelKind.GfniAvx512, GfKernelKind.GfniAvx2, GfKernelKind.Avx512, GfKernelKind.Avx2, GfKernelKind.Vector128,
        ];
        foreach (var kind in order)
        {
            if (IsSupported(kind))
            {
                return kind;
            }
        }

        return GfKernelKind.Scalar;
    }
}
