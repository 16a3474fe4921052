using Xmbl.Cluster.Grains.Jobs;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

[Trait("Suite", "BVT")]
public sealed class JobIdsTests
{
    [Fact]
    public void New_LaterSubmissions_SortAfterEarlierOnes()
    {
        var t = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var first = JobIds.New(t);
        var second = JobIds.New(t.AddMilliseconds(1));

        Assert.True(string.CompareOrdinal(first, second) < 0);
        Assert.True(string.CompareOrdinal(JobIds.TimePrefix(t), first) < 0);
        Assert.True(JobIds.IsValid(first));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0190000000000-aaaaaaaaaaa")]
    [InlineData("0190000000000Xaaaaaaaaaaaa")]
    [InlineData("0190000000000-AAAAAAAAAAAA")]
    [InlineData("../../etc/passwd/aaaaaaaaaa")]
    public void IsValid_MalformedIds_AreRejected(string? id) => Assert.False(JobIds.IsValid(id));

    [Fact]
    public void Seed_IsStablePerJobAndDiffersForNestedRuns()
    {
        Assert.Equal(JobIds.Seed("0190000000000-aaaaaaaaaaaa"), JobIds.Seed("0190000000000-aaaaaaaaaaaa"));
        Assert.NotEqual(JobIds.Seed("0190000000000-aaaaaaaaaaaa"), JobIds.Seed("0190000000000-aaaaaaaaaaab"));
        Assert.NotEqual(JobIds.Seed("0190000000000-aaaaaaaaaaaa"), JobIds.Seed("0190000000000-aaaaaaaaaaaa", 1));
    }
}
