using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class ObjectHealthTests
{
    private static ObjectManifest Manifest()
    {
        StripeManifest Stripe(int index) => new(index, 10, 4, Enumerable.Range(0, 5).Select(i => new ShardPlacement(i, $"n{i}", ShardId.Parse($"s{index}-{i}"), "00")).ToArray());
        return new ObjectManifest("ns", "o", 20, "application/octet-stream", "00", 3, 2, 4, [Stripe(0), Stripe(1)], DateTimeOffset.UnixEpoch);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Evaluate_DeadNodeAndBadShard_CountsPerStripe()
    {
        var live = new HashSet<string> { "n0", "n1", "n2", "n3" };
        var bad = new HashSet<ShardId> { ShardId.Parse("s1-0") };

        var health = ObjectHealth.Evaluate(Manifest(), live, bad);

        Assert.Equal([4, 3], health.Stripes.Select(s => s.Healthy));
        Assert.Equal(3, health.MinHealthyShards);
        Assert.Equal(7, health.HealthyShards);
        Assert.Equal(10, health.TotalShards);
        Assert.False(health.IsFullyHealthy);
        Assert.True(health.IsReadable);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Evaluate_TooFewLive_NotReadable()
    {
        var health = ObjectHealth.Evaluate(Manifest(), new HashSet<string> { "n0", "n1" });
        Assert.False(health.IsReadable);
    }
}
