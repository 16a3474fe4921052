using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Grains.Tests.Objects;

public sealed class ObjectKeyTests
{
    [Theory]
    [InlineData("file.txt")]
    [InlineData("dir/sub/file")]
    [InlineData("données/été.txt")]
    [InlineData("emoji-\U0001F600")]
    [InlineData("a%2fb")]
    [InlineData("...")]
    public void WellFormedNames_AreKeptAsWritten(string name)
    {
        Assert.True(ObjectKey.TryCreate("ns", name, out var key, out var error), error);
        Assert.Equal(name, key.Name);
    }

    [Theory]
    [InlineData("a/../b")]
    [InlineData("./a")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\0b")]
    [InlineData("a\u007fb")]
    public void MalformedNames_AreRefused(string name)
    {
        Assert.False(ObjectKey.TryCreate("ns", name, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void LoneSurrogates_AreRefused_SinceUtf8CannotCarryThem()
    {
        // Built here: theory data would be serialized through UTF-8 and arrive already replaced by U+FFFD.
        foreach (var name in new[] { "lone-" + '\ud800', "reversed-" + '\udc00' + '\ud800', "low-" + '\udc00' })
        {
            Assert.False(ObjectKey.TryCreate("ns", name, out _, out var error));
            Assert.Contains("Unicode", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NameLength_IsLimitedTo1024Characters()
    {
        Assert.True(ObjectKey.TryCreate("ns", new string('n', ObjectKey.MaxNameLength), out _, out _));
        Assert.False(ObjectKey.TryCreate("ns", new string('n', ObjectKey.MaxNameLength + 1), out _, out _));
    }
}
