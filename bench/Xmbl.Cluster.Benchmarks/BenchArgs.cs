using System.Globalization;

namespace Xmbl.Cluster.Benchmarks;

/// <summary>The command-line switches and the percentiles the hand-written (non-BenchmarkDotNet) runs share.</summary>
internal static class BenchArgs
{
    /// <summary>The value after <paramref name="name"/>, or null when the switch is absent.</summary>
    public static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/> when the switch is absent.</summary>
    public static int Int(string[] args, string name, int fallback) =>
        Text(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0-1) of ascending <paramref name="sorted"/>; NaN when empty.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
