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
}
