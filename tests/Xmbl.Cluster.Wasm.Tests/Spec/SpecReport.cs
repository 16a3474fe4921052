using System.Globalization;
using System.Text;

namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>
/// Writes per-file results under <c>TestResults/wasm-spec/</c> of the repository (or <c>XMBL_SPEC_RESULTS</c>) and
/// regenerates a markdown table per mode from all rows present, so the README table can be copied after a run.
/// </summary>
internal static class SpecReport
{
    private static readonly object Gate = new();

    public static string ResultsDirectory
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("XMBL_SPEC_RESULTS");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                return fromEnvironment;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Xmbl.Cluster.sln")))
                {
                    return Path.Combine(dir.FullName, "TestResults", "wasm-spec");
                }
            }

            return Path.Combine(AppContext.BaseDirectory, "TestResults", "wasm-spec");
        }
    }

    public static void Write(SpecFileResult result)
    {
        lock (Gate)
        {
            var dir = Path.Combine(ResultsDirectory, result.Mode);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, result.File + ".tsv"), result.ToRow() + "\n");
            File.WriteAllLines(
                Path.Combine(dir, result.File + ".types"),
                result.CountsByType.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Type}\t{c.Passed}\t{c.Failed}\t{c.Skipped}")));
            File.WriteAllText(Path.Combine(dir, result.File + ".txt"), result.Describe());
            WriteSummary(result.Mode, dir);
        }
    }

    private static void WriteSummary(string mode, string dir)
    {
        var rows = Directory.GetFiles(dir, "*.tsv")
            .Select(f => File.ReadAllText(f).Trim().Split('\t'))
            .Where(r => r.Length == 5)
            .OrderBy(r => r[0], StringComparer.Ordinal)
            .ToList();
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| spec file ({mode}) | passed | failed | skipped |");
        sb.AppendLine("|---|---:|---:|---:|");
        long passed = 0, failed = 0, skipped = 0;
        foreach (var r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r[0]} | {r[2]} | {r[3]} | {r[4]} |");
            passed += long.Parse(r[2], CultureInfo.InvariantCulture);
            failed += long.Parse(r[3], CultureInfo.InvariantCulture);
            skipped += long.Parse(r[4], CultureInfo.InvariantCulture);
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"| **total ({rows.Count} files)** | {passed} | {failed} | {skipped} |");
        var byType = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var line in Directory.GetFiles(dir, "*.types").SelectMany(File.ReadAllLines))
        {
            var parts = line.Split('\t');
            if (parts.Length != 4)
            {
                continue;
            }

            if (!byType.TryGetValue(parts[0], out var totals))
            {
                totals = new long[3];
                byType[parts[0]] = totals;
            }

            for (var i = 0; i < 3; i++)
            {
                totals[i] += long.Parse(parts[i + 1], CultureInfo.InvariantCulture);
            }
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| command ({mode}) | passed | failed | skipped |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var (type, totals) in byType)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {type} | {totals[0]} | {totals[1]} | {totals[2]} |");
        }
        File.WriteAllText(Path.Combine(ResultsDirectory, $"summary-{mode}.md"), sb.ToString());
    }
}
