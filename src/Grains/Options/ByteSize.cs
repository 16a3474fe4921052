using System.Globalization;

namespace Xmbl.Cluster.Grains.Options;

/// <summary>Parses sizes as operators write them: <c>10GB</c>, <c>512MiB</c>, <c>1.5T</c>, <c>4096</c>.</summary>
/// <remarks>Decimal units (KB, MB, GB, TB) are powers of 1000, binary units (KiB, MiB, GiB, TiB) and bare letters (K, M, G, T) powers of 1024.</remarks>
public static class ByteSize
{
    /// <summary>Parses a size in bytes.</summary>
    /// <exception cref="FormatException">The text is not a size.</exception>
    public static long Parse(string text)
    {
        if (TryParse(text, out var bytes))
        {
            return bytes;
        }

        throw new FormatException($"'{text}' is not a size; write e.g. 4096, 512MiB, 10GB or 2T.");
    }

    /// <summary>Parses a size in bytes, returning false when the text is not a size.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        var split = s.Length;
        while (split > 0 && char.IsLetter(s[split - 1]))
        {
            split--;
        }

        if (!decimal.TryParse(s.AsSpan(0, split).Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            return false;
        }

        long multiplier = s[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" => 1000,
            "MB" => 1000 * 1000,
            "GB" => 1000L * 1000 * 1000,
            "TB" => 1000L * 1000 * 1000 * 1000,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            "T" or "TIB" => 1L << 40,
            _ => -1,
        };
        if (multiplier < 0 || number * multiplier > long.MaxValue)
        {
            return false;
        }

        bytes = (long)(number * multiplier);
        return true;
    }
}
