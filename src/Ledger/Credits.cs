using System.Globalization;

namespace Xmbl.Cluster.Ledger;

/// <summary>
/// Amounts of xmbl.c: stored and computed as whole micro-xmbl.c (<see cref="long"/>), written as xmbl.c with up to
/// six decimals (<c>12.5</c>, <c>0.000001</c>). Never floating point.
/// </summary>
public static class Credits
{
    /// <summary>Micro-xmbl.c per xmbl.c.</summary>
    public const long MicroPerCredit = 1_000_000;

    /// <summary>Decimals of an amount.</summary>
    public const int Decimals = 6;

    /// <summary>
    /// Reads <c>[digits][.digits]</c> (at most six decimals, no sign, exponent, spaces or group separators) into
    /// micro-xmbl.c; false for anything else, zero included when <paramref name="allowZero"/> is false, and for amounts
    /// past <see cref="long.MaxValue"/> micro-xmbl.c.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out long micro, bool allowZero = false)
    {
        micro = 0;
        var dot = text.IndexOf('.');
        var whole = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? [] : text[(dot + 1)..];
        if ((whole.IsEmpty && fraction.IsEmpty) || fraction.Length > Decimals || (dot >= 0 && fraction.IsEmpty))
        {
            return false;
        }

        long units = 0;
        foreach (var c in whole)
        {
            if (!char.IsAsciiDigit(c) || units > (long.MaxValue - (c - '0')) / 10)
            {
                return false;
            }

            units = (units * 10) + (c - '0');
        }

        long fractional = 0;
        for (var i = 0; i < Decimals; i++)
        {
            var c = i < fraction.Length ? fraction[i] : '0';
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            fractional = (fractional * 10) + (c - '0');
        }

        if (units > (long.MaxValue - fractional) / MicroPerCredit)
        {
            return false;
        }

        micro = (units * MicroPerCredit) + fractional;
        return allowZero || micro > 0;
    }

    /// <summary>Writes micro-xmbl.c as xmbl.c with six decimals (<c>12.500000</c>; negative amounts with a minus sign).</summary>
    public static string Format(long micro)
    {
        var negative = micro < 0;
        var magnitude = negative ? (ulong)(-(micro + 1)) + 1 : (ulong)micro;
        var text = (magnitude / MicroPerCredit).ToString(CultureInfo.InvariantCulture) + "." + (magnitude % MicroPerCredit).ToString("D6", CultureInfo.InvariantCulture);
        return negative ? "-" + text : text;
    }
}
