using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Tests.Shards;

public sealed class ShardIdTests
{
    [Theory]
    [Trait("Suite", "BVT")]
    [InlineData("abc")]
    [InlineData("a")]
    [InlineData("0f3a-b_c.d")]
    public void TryParse_ValidId_Succeeds(string value)
    {
        Assert.True(ShardId.TryParse(value, out var id));
        Assert.Equal(value, id.Value);
    }

    [Theory]
    [Trait("Suite", "BVT")]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData(null)]
    public void TryParse_UnsafeId_Fails(string? value)
    {
        Assert.False(ShardId.TryParse(value, out _));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void New_IsUniqueAndValid()
    {
        var a = ShardId.New();
        var b = ShardId.New();
        Assert.NotEqual(a, b);
        Assert.True(ShardId.IsValid(a.Value));
        Assert.Equal(32, a.Value.Length);
    }
}
