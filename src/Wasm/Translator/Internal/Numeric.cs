using System.Numerics;
using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// WebAssembly numeric semantics the IL instruction set does not give directly: trapping division and
/// truncation, saturating truncation, IEEE min/max/nearest, bit-exact copysign, correctly rounded u64→float.
/// NaN results are canonicalized by the translator (FunctionTranslator.Canon), not here.
/// </summary>
internal static class Numeric
{
    public const uint CanonicalF32Bits = 0x7FC0_0000;
    public const ulong CanonicalF64Bits = 0x7FF8_0000_0000_0000;

    /// <summary>Bits → float without constant folding (a folded constant would lose a signaling NaN).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float F32FromBitsOpaque(int bits) => BitConverter.Int32BitsToSingle(bits);

    /// <summary>Bits → double without constant folding.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double F64FromBitsOpaque(long bits) => BitConverter.Int64BitsToDouble(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DivS(int a, int b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        if (b == -1 && a == int.MinValue)
        {
            Traps.Throw(TrapKind.IntegerOverflow);
        }

        return a / b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DivU(int a, int b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        return (int)((uint)a / (uint)b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RemS(int a, int b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        return b == -1 ? 0 : a % b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RemU(int a, int b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        return (int)((uint)a % (uint)b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long DivS(long a, long b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        if (b == -1 && a == long.MinValue)
        {
            Traps.Throw(TrapKind.IntegerOverflow);
        }

        return a / b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long DivU(long a, long b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        return (long)((ulong)a / (ulong)b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long RemS(long a, long b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        return b == -1 ? 0 : a % b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long RemU(long a, long b)
    {
        if (b == 0)
        {
            Traps.Throw(TrapKind.IntegerDivideByZero);
        }

        return (long)((ulong)a % (ulong)b);
    }

    public static int Clz(int x) => BitOperations.LeadingZeroCount((uint)x);

    public static int Ctz(int x) => BitOperations.TrailingZeroCount(x);

    public static int Popcnt(int x) => BitOperations.PopCount((uint)x);

    public static long Clz(long x) => BitOperations.LeadingZeroCount((ulong)x);

    public static long Ctz(long x) => BitOperations.TrailingZeroCount(x);

    public static long Popcnt(long x) => BitOperations.PopCount((ulong)x);

    // Rotates are written as two shifts joined by an add, never BitOperations.RotateLeft/RotateRight or a shift
    // pair joined by | or ^: the JIT turns those into a rol/ror node, and the .NET 10 x64 JIT (10.0.12, dotnet/runtime
    // #129288) believes rol/ror with a non-zero constant count set ZF, so `i32.rotr(x, 7); if` or `br_if` branches on
    // a stale ZF left by an earlier instruction. The two shifted halves have disjoint bits, so + equals |; for a
    // count of 0 the second half is shifted out completely (two shifts, each under the width), leaving x.
    public static int Rotl(int x, int n)
    {
        var u = (uint)x;
        var s = n & 31;
        return (int)((u << s) + ((u >> 1) >> (31 - s)));
    }

    public static int Rotr(int x, int n)
    {
        var u = (uint)x;
        var s = n & 31;
        return (int)((u >> s) + ((u << 1) << (31 - s)));
    }

    public static long Rotl(long x, long n)
    {
        var u = (ulong)x;
        var s = (int)n & 63;
        return (long)((u << s) + ((u >> 1) >> (63 - s)));
    }

    public static long Rotr(long x, long n)
    {
        var u = (ulong)x;
        var s = (int)n & 63;
        return (long)((u >> s) + ((u << 1) << (63 - s)));
    }

    // min/max: NaN if either is NaN, and -0 < +0. Written out rather than MathF/Math.Min/Max: with an
    // operand the JIT sees as the constant -0 (`local.get 0; f32.const -0; f32.min`), the .NET 10 x64 JIT's Min
    // intrinsic returned +0 for min(+0, -0) (differential-test seed 1389). Equal operands can only differ in the
    // sign of a zero, so OR-ing the bits gives min's -0 and AND-ing them gives max's +0.
    public static float MinRaw(float a, float b) => MinCore(a, b);

    public static float MaxRaw(float a, float b) => MaxCore(a, b);

    public static double MinRaw(double a, double b) => MinCore(a, b);

    public static double MaxRaw(double a, double b) => MaxCore(a, b);

    // A NaN operand gives the NaN the CPU produces for a + b (payload kept); the translator canonicalizes it where
    // it becomes observable (CanonicalizeNaNs).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MinCore(float a, float b)
    {
        if (a < b)
        {
            return a;
        }

        if (b < a)
        {
            return b;
        }

        return a == b ? BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) | BitConverter.SingleToInt32Bits(b)) : a + b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxCore(float a, float b)
    {
        if (a > b)
        {
            return a;
        }

        if (b > a)
        {
            return b;
        }

        return a == b ? BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & BitConverter.SingleToInt32Bits(b)) : a + b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MinCore(double a, double b)
    {
        if (a < b)
        {
            return a;
        }

        if (b < a)
        {
            return b;
        }

        return a == b ? BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(a) | BitConverter.DoubleToInt64Bits(b)) : a + b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MaxCore(double a, double b)
    {
        if (a > b)
        {
            return a;
        }

        if (b > a)
        {
            return b;
        }

        return a == b ? BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(a) & BitConverter.DoubleToInt64Bits(b)) : a + b;
    }

    // The NaN is whatever the CPU and runtime produce; the translator canonicalizes it where it becomes observable.
    public static float NearestRaw(float x) => MathF.Round(x, MidpointRounding.ToEven);

    public static double NearestRaw(double x) => Math.Round(x, MidpointRounding.ToEven);

    public static float CeilRaw(float x) => MathF.Ceiling(x);

    public static double CeilRaw(double x) => Math.Ceiling(x);

    public static float FloorRaw(float x) => MathF.Floor(x);

    public static double FloorRaw(double x) => Math.Floor(x);

    public static float TruncRaw(float x) => MathF.Truncate(x);

    public static double TruncRaw(double x) => Math.Truncate(x);

    public static float SqrtRaw(float x) => MathF.Sqrt(x);

    public static double SqrtRaw(double x) => Math.Sqrt(x);

    // abs, neg and copysign are bit operations: they never canonicalize, payloads pass through.
    public static float Abs(float x) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0x7FFF_FFFF);

    public static double Abs(double x) => BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(x) & 0x7FFF_FFFF_FFFF_FFFF);

    public static float Neg(float x) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) ^ 0x8000_0000);

    public static double Neg(double x) => BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(x) ^ 0x8000_0000_0000_0000);

    public static float CopySign(float a, float b) => BitConverter.UInt32BitsToSingle(
        (BitConverter.SingleToUInt32Bits(a) & 0x7FFF_FFFF) | (BitConverter.SingleToUInt32Bits(b) & 0x8000_0000));

    public static double CopySign(double a, double b) => BitConverter.UInt64BitsToDouble(
        (BitConverter.DoubleToUInt64Bits(a) & 0x7FFF_FFFF_FFFF_FFFF) | (BitConverter.DoubleToUInt64Bits(b) & 0x8000_0000_0000_0000));

    public static float DemoteF64Raw(double x) => (float)x;

    public static double PromoteF32Raw(float x) => x;

    public static float U32ToF32(int x) => (uint)x;

    public static double U32ToF64(int x) => (uint)x;

    public static float U64ToF32(long x)
    {
        if (x >= 0)
        {
            return x;
        }

        // Halve with a sticky low bit so the single rounding of the signed conversion is exact.
        var halved = (long)(((ulong)x >> 1) | ((ulong)x & 1));
        return (float)halved * 2f;
    }

    public static double U64ToF64(long x)
    {
        if (x >= 0)
        {
            return x;
        }

        var halved = (long)(((ulong)x >> 1) | ((ulong)x & 1));
        return (double)halved * 2d;
    }

    // Trapping truncation: NaN → invalid conversion; outside the target range → integer overflow.
    public static int I32TruncF32S(float x) => I32TruncF64S(x);

    public static int I32TruncF32U(float x) => I32TruncF64U(x);

    public static int I32TruncF64S(double x)
    {
        CheckNaN(x);
        if (!(x > -2147483649.0 && x < 2147483648.0))
        {
            Traps.Throw(TrapKind.IntegerOverflow);
        }

        return (int)x;
    }

    public static int I32TruncF64U(double x)
    {
        CheckNaN(x);
        if (!(x > -1.0 && x < 4294967296.0))
        {
            Traps.Throw(TrapKind.IntegerOverflow);
        }

        return (int)(uint)x;
    }

    public static long I64TruncF32S(float x) => I64TruncF64S(x);

    public static long I64TruncF32U(float x) => I64TruncF64U(x);

    public static long I64TruncF64S(double x)
    {
        CheckNaN(x);
        if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        {
            Traps.Throw(TrapKind.IntegerOverflow);
        }

        return (long)x;
    }

    public static long I64TruncF64U(double x)
    {
        CheckNaN(x);
        if (!(x > -1.0 && x < 18446744073709551616.0))
        {
            Traps.Throw(TrapKind.IntegerOverflow);
        }

        return (long)(ulong)x;
    }

    // Saturating truncation: NaN → 0, clamp to the target range.
    public static int I32TruncSatF32S(float x) => I32TruncSatF64S(x);

    public static int I32TruncSatF32U(float x) => I32TruncSatF64U(x);

    public static int I32TruncSatF64S(double x) =>
        double.IsNaN(x) ? 0 : x <= -2147483648.0 ? int.MinValue : x >= 2147483647.0 ? int.MaxValue : (int)x;

    public static int I32TruncSatF64U(double x) =>
        double.IsNaN(x) || x <= 0 ? 0 : x >= 4294967295.0 ? -1 : (int)(uint)x;

    public static long I64TruncSatF32S(float x) => I64TruncSatF64S(x);

    public static long I64TruncSatF32U(float x) => I64TruncSatF64U(x);

    public static long I64TruncSatF64S(double x) =>
        double.IsNaN(x) ? 0 : x <= -9223372036854775808.0 ? long.MinValue : x >= 9223372036854775808.0 ? long.MaxValue : (long)x;

    public static long I64TruncSatF64U(double x) =>
        double.IsNaN(x) || x <= 0 ? 0 : x >= 18446744073709551616.0 ? -1L : (long)(ulong)x;

    private static void CheckNaN(double x)
    {
        if (double.IsNaN(x))
        {
            Traps.Throw(TrapKind.InvalidConversionToInteger);
        }
    }
}
