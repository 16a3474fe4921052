namespace Xmbl.Cluster.Grains.Tests.Cluster;

/// <summary><c>NodeHostPlacement</c> on a two-silo test cluster.</summary>
[Trait("Suite", "Functional")]
[Collection(GrainClusterCollection.Name)]
public sealed class PlacementTests(GrainTestCluster cluster)
{
    [Fact]
    public async Task NodeHostPlacement_GrainKeyedBySiloName_ActivatesOnThatSilo()
    {
        var names = cluster.Cluster.Silos.Select(s => s.Name).ToList();
        Assert.Equal(2, names.Distinct(StringComparer.Ordinal).Count());

        foreach (var name in names)
        {
            for (var node = 0; node < 4; node++)
            {
                Assert.Equal(name, await cluster.Grains.GetGrain<IPlacedGrain>($"{name}/node-{node}").SiloNameAsync());
            }
        }
    }

    [Fact]
    public async Task NodeHostPlacement_UnknownSiloName_IsRefused()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Grains.GetGrain<IPlacedGrain>("no-such-silo/node-0").SiloNameAsync());

        Assert.Contains("Silo 'no-such-silo' is not an active member of the cluster", error.ToString(), StringComparison.Ordinal);
    }
}
