using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class DefaultPlacementPolicyTests
{
    private static PlacementCandidate[] Nodes(int count, long free = 1_000_000, int volumes = 1) =>
        Enumerable.Range(0, count).Select(i => new PlacementCandidate($"n{i}", free, volumes)).ToArray();

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_EnoughNodes_AllDistinct()
    {
        var nodes = DefaultPlacementPolicy.Instance.Place(0, 5, 100, Nodes(8));
        Assert.Equal(5, nodes.Distinct().Count());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_EqualNodes_RotatesWithStripeIndex()
    {
        var first = DefaultPlacementPolicy.Instance.Place(0, 3, 100, Nodes(6));
        var second = DefaultPlacementPolicy.Instance.Place(1, 3, 100, Nodes(6));
        Assert.NotEqual(first, second);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_PrefersMostFreeSpace()
    {
        var candidates = new[] { new PlacementCandidate("small", 1000), new PlacementCandidate("big", 10_000), new PlacementCandidate("mid", 5000) };
        Assert.Equal(["big", "mid"], DefaultPlacementPolicy.Instance.Place(0, 2, 100, candidates));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_FewerNodesThanShards_SpreadsEvenlyUpToVolumeCount()
    {
        var nodes = DefaultPlacementPolicy.Instance.Place(0, 14, 100, Nodes(5, volumes: 3));
        var counts = nodes.GroupBy(n => n).Select(g => g.Count()).ToArray();
        Assert.Equal(5, counts.Length);
        Assert.All(counts, c => Assert.InRange(c, 2, 3));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_VolumesExhaustedAndSharingRefused_Throws()
    {
        var strict = new DefaultPlacementPolicy(allowSharedVolumes: false);
        Assert.Throws<InsufficientShardNodesException>(() => strict.Place(0, 5, 100, Nodes(2, volumes: 2)));
        Assert.Equal(4, strict.Place(0, 4, 100, Nodes(2, volumes: 2)).Count);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_NodeWithoutRoom_Skipped()
    {
        var candidates = new[] { new PlacementCandidate("full", 50), new PlacementCandidate("a", 1000), new PlacementCandidate("b", 1000) };
        var nodes = DefaultPlacementPolicy.Instance.Place(0, 4, 100, candidates);
        Assert.DoesNotContain("full", nodes);
        Assert.Throws<InsufficientShardNodesException>(() => DefaultPlacementPolicy.Instance.Place(0, 21, 100, candidates));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Place_OccupiedNodes_UsedLast()
    {
        var occupied = new Dictionary<string, int> { ["n0"] = 1, ["n1"] = 1, ["n2"] = 1 };
        var nodes = DefaultPlacementPolicy.Instance.Place(0, 2, 100, Nodes(5), occupied);
        Assert.Equal(["n3", "n4"], nodes.Order());
    }
}
