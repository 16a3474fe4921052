using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

[Trait("Suite", "BVT")]
public sealed class NodeReputationGrainTests
{
    [Fact]
    public void Apply_Agreements_RiseTowardsOneWithoutReachingIt()
    {
        var score = NodeReputationGrain.Apply(0.5, 10, 0, 0);

        Assert.InRange(score, 0.5 + 1e-9, 1 - 1e-9);
        Assert.Equal(NodeReputationGrain.Apply(NodeReputationGrain.Apply(0.5, 4, 0, 0), 6, 0, 0), score, 12);
    }

    [Fact]
    public void Apply_OneDisagreement_CostsMoreThanManyAgreementsEarn()
    {
        var afterLie = NodeReputationGrain.Apply(0.5, 0, 1, 0);

        Assert.Equal(0.35, afterLie, 12);
        Assert.True(NodeReputationGrain.Apply(afterLie, 5, 0, 0) < 0.5);
    }

    [Fact]
    public void Apply_Timeouts_LowerTheScoreAndItStaysInRange()
    {
        Assert.True(NodeReputationGrain.Apply(0.5, 0, 0, 1) < 0.5);
        Assert.InRange(NodeReputationGrain.Apply(1, 1000, 0, 0), 0, 1);
        Assert.InRange(NodeReputationGrain.Apply(0, 0, 1000, 1000), 0, 1);
    }

    [Fact]
    public void Recover_BelowNeutral_HalvesTheDistanceToNeutralEveryHalfLife()
    {
        var t0 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var halfLife = TimeSpan.FromMinutes(10);

        Assert.Equal(0.1, NodeReputationGrain.Recover(0.1, t0, t0, halfLife), 12);
        Assert.Equal(0.3, NodeReputationGrain.Recover(0.1, t0, t0 + halfLife, halfLife), 12);
        Assert.Equal(0.4, NodeReputationGrain.Recover(0.1, t0, t0 + (2 * halfLife), halfLife), 12);
        // A node at zero is above the default minimum (0.2) again after log2(0.5 / 0.3) ≈ 0.737 half-lives.
        Assert.True(NodeReputationGrain.Recover(0, t0, t0 + (0.73 * halfLife), halfLife) < 0.2);
        Assert.True(NodeReputationGrain.Recover(0, t0, t0 + (0.74 * halfLife), halfLife) > 0.2);
        // A clock that went backwards changes nothing.
        Assert.Equal(0.1, NodeReputationGrain.Recover(0.1, t0, t0 - halfLife, halfLife));
    }

    [Fact]
    public void Recover_AtOrAboveNeutral_KeepsTheEarnedScore()
    {
        var t0 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal(0.9, NodeReputationGrain.Recover(0.9, t0, t0.AddDays(30), TimeSpan.FromMinutes(10)));
        Assert.Equal(NodeReputation.InitialScore, NodeReputationGrain.Recover(NodeReputation.InitialScore, t0, t0.AddDays(30), TimeSpan.FromMinutes(10)));
    }
}
