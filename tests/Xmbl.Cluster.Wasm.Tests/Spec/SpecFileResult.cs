using System.Globalization;
using System.Text;

namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>Outcome of running one spec file: per-command-type counts, failures and notes.</summary>
internal sealed class SpecFileResult
{
    public const int MaxListedFailures = 20;

    private readonly SortedDictionary<string, int[]> _counts = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private readonly SortedDictionary<string, int> _skipReasons = new(StringComparer.Ordinal);

    public SpecFileResult(string file, string mode)
    {
        File = file;
        Mode = mode;
    }

    public string File { get; }

    public string Mode { get; }

    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public int Skipped { get; private set; }

    /// <summary>Rejections of the right kind whose message lacks the spec's expected text (informational).</summary>
    public int MessageMismatches { get; private set; }

    public IReadOnlyList<string> Failures => _failures;

    public void Pass(SpecCommand command) => Count(command.Type, 0);

    public void Fail(SpecCommand command, string what)
    {
        Count(command.Type, 1);
        _failures.Add(string.Create(CultureInfo.InvariantCulture, $"{File}.wast:{command.Line} {command.Type}: {what}"));
    }

    public void Skip(SpecCommand command, string reason)
    {
        Count(command.Type, 2);
        _skipReasons[reason] = _skipReasons.GetValueOrDefault(reason) + 1;
    }

    public void NoteMessageMismatch() => MessageMismatches++;

    private void Count(string type, int slot)
    {
        if (!_counts.TryGetValue(type, out var counts))
        {
            counts = new int[3];
            _counts[type] = counts;
        }

        counts[slot]++;
        switch (slot)
        {
            case 0:
                Passed++;
                break;
            case 1:
                Failed++;
                break;
            default:
                Skipped++;
                break;
        }
    }

    /// <summary>A readable report: totals, per-type counts, skip reasons and the first failures.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{File} [{Mode}]: {Passed} passed, {Failed} failed, {Skipped} skipped");
        if (MessageMismatches > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $" ({MessageMismatches} rejections with different wording)");
        }

        sb.AppendLine();
        foreach (var (type, c) in _counts)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {type,-22} passed {c[0],6}  failed {c[1],6}  skipped {c[2],6}");
        }

        foreach (var (reason, n) in _skipReasons)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  skipped {n} x {reason}");
        }

        foreach (var failure in _failures.Take(MaxListedFailures))
        {
            sb.AppendLine("  FAIL " + failure);
        }

        if (_failures.Count > MaxListedFailures)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  ... and {_failures.Count - MaxListedFailures} more failures");
        }

        return sb.ToString();
    }

    /// <summary>Per command type: passed, failed, skipped.</summary>
    public IEnumerable<(string Type, int Passed, int Failed, int Skipped)> CountsByType =>
        _counts.Select(kv => (kv.Key, kv.Value[0], kv.Value[1], kv.Value[2]));

    /// <summary>One tab-separated row for the summary table.</summary>
    public string ToRow() => string.Create(CultureInfo.InvariantCulture, $"{File}\t{Mode}\t{Passed}\t{Failed}\t{Skipped}");
}
