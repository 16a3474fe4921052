using System.Globalization;
using System.Text.RegularExpressions;

namespace Xmbl.Cluster.IntegrationTests;

/// <summary>
/// Log event ids are how operators filter and alert, so each one names one event: unique across every assembly and
/// inside its project's range in the register of docs/operations.md.
/// </summary>
[Trait("Suite", "BVT")]
public sealed partial class LogEventIdTests
{
    [Fact]
    public void EveryLoggedEventId_IsUnique_AndInsideItsProjectsRange()
    {
        var ranges = ReadRegister();
        var events = LoggedEvents(RepositoryRoot());

        Assert.NotEmpty(events);
        var problems = new List<string>();
        foreach (var group in events.GroupBy(e => e.Id).Where(g => g.Count() > 1))
        {
            problems.Add($"event id {group.Key} is used by {string.Join(" and ", group.Select(e => e.Where))}");
        }

        foreach (var e in events)
        {
            var own = ranges.Where(r => r.Assembly == e.Assembly).ToList();
            if (!own.Any(r => e.Id >= r.First && e.Id <= r.Last))
            {
                problems.Add(own.Count == 0
                    ? $"{e.Where} logs event {e.Id}, but {e.Assembly} has no range in docs/operations.md"
                    : $"{e.Where} logs event {e.Id}, outside {e.Assembly}'s range(s) {string.Join(", ", own.Select(r => $"{r.First}-{r.Last}"))}");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Register_RangesDoNotOverlap()
    {
        var ranges = ReadRegister().OrderBy(r => r.First).ToList();

        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i].First > ranges[i - 1].Last, $"{ranges[i - 1].Assembly} {ranges[i - 1].First}-{ranges[i - 1].Last} overlaps {ranges[i].Assembly} {ranges[i].First}-{ranges[i].Last}");
        }
    }

    /// <summary>
    /// Every <c>[LoggerMessage(EventId = …)]</c> in src/, by source: the attribute is conditional, so compiled assemblies
    /// do not carry it. Ids are literals or constants of the same project (<c>JobsEventId.RunFailed</c>).
    /// </summary>
    private static List<(string Assembly, int Id, string Where)> LoggedEvents(string root)
    {
        var events = new List<(string, int, string)>();
        foreach (var project in Directory.EnumerateDirectories(Path.Combine(root, "src")))
        {
            var assembly = "Xmbl.Cluster." + Path.GetFileName(project);
            var files = Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .ToDictionary(f => f, File.ReadAllText);
            var constants = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var text in files.Values)
            {
                var type = TypeName().Match(text);
                foreach (Match constant in Constant().Matches(text))
                {
                    constants[$"{(type.Success ? type.Groups[1].Value : "")}.{constant.Groups[1].Value}"] = int.Parse(constant.Groups[2].Value, CultureInfo.InvariantCulture);
                }
            }

            foreach (var (file, text) in files)
            {
                foreach (Match use in LoggerMessage().Matches(text))
                {
                    var value = use.Groups[1].Value;
                    var line = text.AsSpan(0, use.Index).Count('\n') + 1;
                    var where = $"{Path.GetRelativePath(root, file)}:{line}";
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        events.Add((assembly, id, where));
                    }
                    else
                    {
                        Assert.True(constants.TryGetValue(value, out id), $"{where}: event id {value} is not a constant of {assembly}");
                        events.Add((assembly, id, where));
                    }
                }
            }
        }

        return events;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Xmbl.Cluster.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return dir.FullName;
    }

    [GeneratedRegex(@"LoggerMessage\(\s*EventId\s*=\s*([\w.]+)")]
    private static partial Regex LoggerMessage();

    [GeneratedRegex(@"const\s+int\s+(\w+)\s*=\s*(\d+)\s*;")]
    private static partial Regex Constant();

    [GeneratedRegex(@"\bclass\s+(\w+)")]
    private static partial Regex TypeName();

    private static List<(string Assembly, int First, int Last)> ReadRegister()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "operations.md"));
        var start = text.IndexOf("<!-- event-id-ranges -->", StringComparison.Ordinal);
        var end = text.IndexOf("<!-- /event-id-ranges -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "docs/operations.md has no event-id-ranges register");
        var ranges = new List<(string, int, int)>();
        foreach (var line in text[start..end].Split('\n'))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length >= 5 && int.TryParse(cells[2], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                && int.TryParse(cells[3], NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            {
                ranges.Add((cells[1], first, last));
            }
        }

        Assert.NotEmpty(ranges);
        return ranges;
    }
}
