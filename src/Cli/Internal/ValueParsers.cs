using System.Globalization;

namespace Xmbl.Cluster.Cli.Internal;

/// <summary>Parsers for command-line values: byte sizes, durations.</summary>
internal static class ValueParsers
{
    private static readonly (string Suffix, long Multiplier)[] SizeSuffixes =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("B", 1),
    ];

    /// <summary>Parses a memory size into 64 KiB wasm pages: <c>256MiB</c>, <c>1GiB</c>, <c>1048576</c> (bytes),
    /// <c>100pages</c> / <c>100p</c>. Byte sizes round down to whole pages.</summary>
    public static bool TryParseMemoryPages(string text, out int pages, out string error)
    {
        pages = 0;
        error = string.Empty;
        var trimmed = text.Trim();
        foreach (var pageSuffix in new[] { "pages", "page", "p" })
        {
            if (trimmed.EndsWith(pageSuffix, StringComparison.OrdinalIgnoreCase))
            {
                var number = trimmed[..^pageSuffix.Length].Trim();
                if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65_536)
                {
                    error = $"'{text}' is not a page count between 0 and 65536.";
                    return false;
                }

                pages = (int)p;
                return true;
            }
        }

        if (!TryParseBytes(trimmed, out var bytes))
        {
            error = $"'{text}' is not a size; use e.g. 256MiB, 1GiB, 1048576 (bytes) or 4096pages.";
            return false;
        }

        var wasmPages = bytes / 65_536;
        if (wasmPages > 65_536)
        {
            error = $"'{text}' is more than a 32-bit wasm memory can hold (4 GiB).";
            return false;
        }

        pages = (int)wasmPages;
        return true;
    }

    /// <summary>Parses a byte count with an optional binary (KiB, MiB, GiB, K, M, G) or decimal (KB, MB, GB) suffix.</summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        var trimmed = text.Trim();
        long multiplier = 1;
        foreach (var (suffix, value) in SizeSuffixes)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                trimmed = trimmed[..^suffix.Length].Trim();
                multiplier = value;
                break;
            }
        }

        if (!decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var total = number * multiplier;
        if (total > long.MaxValue)
        {
            return false;
        }

        bytes = (long)total;
        return true;
    }

    /// <summary>Parses a duration: <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>, or a plain number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var trimmed = text.Trim();
        double scale = 1;
        foreach (var (suffix, seconds) in new (string, double)[] { ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600) })
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                trimmed = trimmed[..^suffix.Length];
                scale = seconds;
                break;
            }
        }

        if (!double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ||
            value <= 0 || value * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}
