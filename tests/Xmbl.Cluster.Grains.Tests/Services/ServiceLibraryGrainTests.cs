using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Grains.Services;
using Xmbl.Cluster.Grains.Tests.Cluster;

namespace Xmbl.Cluster.Grains.Tests.Services;

/// <summary>The library's grains on Orleans' test cluster, checked against their stored rows.</summary>
[Trait("Suite", "Functional")]
[Collection(GrainClusterCollection.Name)]
public sealed class ServiceLibraryGrainTests(GrainTestCluster cluster)
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ServiceEntry Entry(string id, string sha) =>
        new(id, "1.0.0", "did:key:author", "utility", "d", sha, 10, "xmbl-services/" + id + "/1.0.0/" + sha + ".meshsvc", "{}", T0);

    [Fact]
    public async Task PackageGrain_FirstPublishWins_SameHashIsIdempotent_OtherHashConflicts_AndItIsStored()
    {
        var grain = cluster.Grains.GetGrain<IServicePackageGrain>("org.example.grain@1.0.0");

        var first = await grain.PublishAsync(Entry("org.example.grain", "aa"));
        var same = await grain.PublishAsync(Entry("org.example.grain", "aa"));
        var other = await grain.PublishAsync(Entry("org.example.grain", "bb"));
        await Assert.ThrowsAsync<ArgumentException>(() => grain.PublishAsync(Entry("org.example.elsewhere", "aa")));
        var stored = await cluster.Storage.GetAsync<ServicePackageGrainState>(GrainStates.ServicePackage, "org.example.grain@1.0.0");

        Assert.Equal(PublishOutcome.Created, first.Outcome);
        Assert.Equal(PublishOutcome.AlreadyPublished, same.Outcome);
        Assert.Equal(PublishOutcome.Conflict, other.Outcome);
        Assert.Equal("aa", other.Entry.Sha256);
        Assert.Equal("aa", stored!.State.Entry!.Sha256);
    }

    [Fact]
    public async Task CatalogGrain_ListsNewestFirst_OncePerVersion()
    {
        var catalog = cluster.Grains.GetGrain<IServiceCatalogGrain>(7);

        await catalog.AddAsync(Entry("org.example.one", "01"));
        await catalog.AddAsync(Entry("org.example.two", "02"));
        await catalog.AddAsync(Entry("org.example.one", "01"));

        Assert.Equal(["org.example.two@1.0.0", "org.example.one@1.0.0"], (await catalog.ListAsync()).Select(e => e.Key));
    }

    [Fact]
    public async Task PublisherGrain_KeepsPackagesAndEndorsementsOnceEach()
    {
        var publisher = cluster.Grains.GetGrain<IPublisherGrain>("did:key:publisher-grain");

        await publisher.AddPackageAsync("org.example.p@1.0.0");
        await publisher.AddEndorserAsync("did:key:e1");
        await publisher.AddEndorserAsync("did:key:e1");
        await publisher.AddEndorsedAsync("did:key:other");
        var record = await publisher.GetAsync();
        var stored = await cluster.Storage.GetAsync<PublisherGrainState>(GrainStates.Publisher, "did:key:publisher-grain");

        Assert.Equal(["org.example.p@1.0.0"], record.Packages);
        Assert.Equal(["did:key:e1"], record.Endorsers);
        Assert.Equal(["did:key:other"], record.Endorses);
        Assert.Equal(["did:key:e1"], stored!.State.Endorsers);
    }
}
