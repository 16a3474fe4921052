using Orleans.Core.Internal;

namespace Xmbl.Cluster.Grains.Tests.Cluster;

/// <summary><see cref="DurableGrain{TState}"/>'s contract, checked against the stored rows, on Orleans' test cluster.</summary>
[Trait("Suite", "Functional")]
[Collection(GrainClusterCollection.Name)]
public sealed class DurableGrainTests(GrainTestCluster cluster)
{
    [Fact]
    public async Task ChangingCall_IsWrittenBeforeItReturns()
    {
        var grain = cluster.Grains.GetGrain<IProbeGrain>("durable-write");

        await grain.SetAsync(5);
        var stored = await cluster.Storage.GetAsync<ProbeState>("probe", "durable-write");

        Assert.NotNull(stored);
        Assert.Equal(5, stored.State.Value);
        Assert.Equal([5], stored.State.History);
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task ThrowingCall_LeavesNothingChanged_InMemoryOrInStorage()
    {
        var grain = cluster.Grains.GetGrain<IProbeGrain>("durable-throw");
        await grain.SetAsync(1);
        var activation = await grain.ActivationAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.SetThenThrowAsync(2));
        var inMemory = await grain.GetAsync();
        var stored = await cluster.Storage.GetAsync<ProbeState>("probe", "durable-throw");

        Assert.Equal("failed after changing the state", error.Message);
        Assert.Equal(1, inMemory.Value);
        Assert.Equal([1], inMemory.History);
        Assert.Equal(1, stored!.State.Value);
        Assert.Equal(1, stored.Version);
        // Rolled back in place: the same activation goes on serving.
        Assert.Equal(activation, await grain.ActivationAsync());
        await grain.SetAsync(3);
        Assert.Equal([1, 3], (await cluster.Storage.GetAsync<ProbeState>("probe", "durable-throw"))!.State.History);
    }

    [Fact]
    public async Task ReadOnlyCalls_AndCallsThatChangeNothing_WriteNothing()
    {
        var grain = cluster.Grains.GetGrain<IProbeGrain>("durable-read");
        await grain.SetAsync(4);
        var before = await cluster.Storage.GetAsync<ProbeState>("probe", "durable-read");

        for (var i = 0; i < 3; i++)
        {
            await grain.GetAsync();
            await grain.ActivationAsync();
            await grain.SetAsync(4);
        }

        var after = await cluster.Storage.GetAsync<ProbeState>("probe", "durable-read");
        Assert.Equal(before!.Version, after!.Version);
        Assert.Equal(before.UpdatedAt, after.UpdatedAt);
    }

    [Fact]
    public async Task State_SurvivesDeactivation()
    {
        var grain = cluster.Grains.GetGrain<IProbeGrain>("durable-deactivate");
        await grain.SetAsync(7);
        await grain.SetAsync(8);
        var first = await grain.ActivationAsync();

        await DeactivateAsync(grain);
        var state = await grain.GetAsync();

        Assert.NotEqual(first, await grain.ActivationAsync());
        Assert.Equal(8, state.Value);
        Assert.Equal([7, 8], state.History);
    }

    /// <summary>Deactivates the grain and waits until a call finds a new activation.</summary>
    internal static async Task DeactivateAsync(IProbeGrain grain)
    {
        var before = await grain.ActivationAsync();
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await grain.ActivationAsync() == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the grain was not deactivated within 30 s");
            await Task.Delay(50);
        }
    }
}
