
namespace Xmbl.Cluster.Services.Tests;

public sealed class OutputNameFormatTests
{
    private static readonly DateTimeOffset Time = new(2026, 12, 7, 12, 30, 45, 123, TimeSpan.Zero);

    [Fact]
    public void Default_HoldsOutputTimeCounterAndExtension() =>
        Assert.Equal("result-20261207T123045123Z-000042.json", OutputNameFormat.Format(OutputNameFormat.Default, "result", "t1", Time, 42, "json"));

    [Fact]
    public void SameTime_DifferentCounters_GiveDifferentNames()
    {
        var names = Enumerable.Range(0, 1000).Select(i => OutputNameFormat.Format("{task}-{counter}.{ext}", "r", "task7", Time, i, "bin")).ToHashSet();

        Assert.Equal(1000, names.Count);
    }

    [Theory]
    [InlineData("{output}", "{counter}")]
    [InlineData("a/{counter}", "'/' is not allowed")]
    [InlineData(".{counter}", "must not start with '.'")]
    [InlineData("{counter", "'{counter' is not a token")]
    [InlineData("", "1 to 128")]
    public void Check_Refuses(string format, string fragment) =>
        Assert.Contains(fragment, OutputNameFormat.Check(format), StringComparison.Ordinal);
}
