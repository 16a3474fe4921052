namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) and generator 2, the field used by
/// Backblaze JavaReedSolomon, klauspost/reedsolomon, reed-solomon-erasure and ISA-L.
/// </summary>
internal static class GaloisField
{
    /// <summary>The reduction polynomial including the x^8 term.</summary>
    public const int Polynomial = 0x11D;

    /// <summary>The order of the multiplicative group.</summary>
    public const int Order = 255;

    // Exp is doubled (510 entries) so Exp[Log[a] + Log[b]] never needs a modulo.
    private static readonly byte[] ExpTable = BuildExp();
    private static readonly byte[] LogTable = BuildLog(ExpTable);

    /// <summary>Full 256 x 256 product table: MulTable[a * 256 + b] = a * b. Row a is the lookup for "times a".</summary>
    public static readonly byte[] MulTable = BuildMulTable();

    /// <summary>Multiplicative inverses; InverseTable[0] is 0 (zero has no inverse and callers must not ask).</summary>
    private static readonly byte[] InverseTable = BuildInverse();

    /// <summary>Returns a + b (XOR).</summary>
    public static byte Add(byte a, byte b) => (byte)(a ^ b);

    /// <summary>Returns a * b, computed with logarithms (the reference for the product table).</summary>
    public static byte MulSlow(byte a, byte b)
        => a == 0 || b == 0 ? (byte)0 : ExpTable[LogTable[a] + LogTable[b]];

    /// <summary>Returns a * b from the product table.</summary>
    public static byte Mul(byte a, byte b) => MulTable[(a << 8) | b];

    /// <summary>Returns a / b; b must not be zero.</summary>
    public static byte Div(byte a, byte b)
    {
        if (b == 0)
        {
            throw new DivideByZeroException("Division by zero in GF(2^8).");
        }

        return a == 0 ? (byte)0 : ExpTable[LogTable[a] + Order - LogTable[b]];
    }

    /// <summary>Returns the multiplicative inverse of a; a must not be zero.</summary>
    public static byte Inverse(byte a)
    {
        if (a == 0)
        {
            throw new DivideByZeroException("Zero has no inverse in GF(2^8).");
        }

        return InverseTable[a];
    }

    /// <summary>Returns a raised to the power n (n >= 0), with 0^0 = 1 as in the Backblaze Vandermonde construction.</summary>
    public static byte Pow(byte a, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n == 0)
        {
            return 1;
        }

        if (a == 0)
        {
            return 0;
        }

        return ExpTable[LogTable[a] * n % Order];
    }

    /// <summary>Returns the discrete logarithm of a (base 2); a must not be zero.</summary>
    public static int Log(byte a) => a == 0 ? throw new ArgumentOutOfRangeException(nameof(a), "log(0) is undefined.") : LogTable[a];

    /// <summary>Returns 2^n for 0 &lt;= n &lt; 510.</summary>
    public static byte Exp(int n) => ExpTable[n];

    private static byte[] BuildExp()
    {
        var exp = new byte[Order * 2];
        var x = 1;
        for (var i = 0; i < Order; i++)
        {
            exp[i] = (byte)x;
            exp[i + Order] = (byte)x;
            x <<= 1;
            if ((x & 0x100) != 0)
            {
                x ^= Polynomial;
            }
        }

        return exp;
    }

    private static byte[] BuildLog(byte[] exp)
    {
        var log = new byte[256];
        for (var i = 0; i < Order; i++)
        {
            log[exp[i]] = (byte)i;
        }

        return log;
    }

    private static byte[] BuildMulTable()
    {
        var table = new byte[256 * 256];
        for (var a = 1; a < 256; a++)
        {
            for (var b = 1; b < 256; b++)
            {
                table[(a << 8) | b] = ExpTable[LogTable[a] + LogTable[b]];
            }
        }

        return table;
    }

    private static byte[] BuildInverse()
    {
        var inv = new byte[256];
        for (var a = 1; a < 256; a++)
        {
            inv[a] = ExpTable[Order - LogTable[a]];
        }

        return inv;
    }
}
