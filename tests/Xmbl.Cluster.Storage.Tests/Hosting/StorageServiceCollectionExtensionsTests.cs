using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Hosting;

public sealed class StorageServiceCollectionExtensionsTests
{
    [Fact]
    [Trait("Suite", "Functional")]
    public async Task AddShardStore_FromConfiguration_BindsVolumesPoliciesAndRoundTripsAnObject()
    {
        using var dir = new TempDirectory();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Xmbl:Storage:NodeId"] = "node-a",
            ["Xmbl:Storage:DataShards"] = "2",
            ["Xmbl:Storage:ParityShards"] = "1",
            ["Xmbl:Storage:ShardSize"] = "8192",
            ["Xmbl:Storage:Volumes:0:Name"] = "disk1",
            ["Xmbl:Storage:Volumes:0:Path"] = dir.Sub("a1"),
            ["Xmbl:Storage:Policies:MaxObjectSize"] = "1000",
            ["Xmbl:Storage:Policies:Namespaces:0:Namespace"] = "public",
            ["Xmbl:Storage:Policies:Namespaces:0:AccessLevel"] = "MeshGlobal",
            ["Xmbl:Storage:Policies:Namespaces:0:OwnerAccount"] = "did:key:z6MkOwner",
            ["Xmbl:Storage:Policies:Namespaces:0:Grants:0:Account"] = "*",
            ["Xmbl:Storage:Policies:Namespaces:0:Grants:0:Operations"] = "Read, List",
            ["Xmbl:Storage:Policies:Namespaces:0:Coding:DataShards"] = "2",
            ["Xmbl:Storage:Policies:Namespaces:0:Coding:ParityShards"] = "1",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddShardStore();
        services.AddStorageVolume("disk2", dir.Sub("a2"));
        services.AddShardNode("node-b", new StorageVolumeOptions { Name = "v", Path = dir.Sub("b") });
        services.AddShardNode("node-c", new StorageVolumeOptions { Name = "v", Path = dir.Sub("c") });
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var options = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
        Assert.Equal(["disk1", "disk2"], options.Volumes.Select(v => v.Name));
        var registry = provider.GetRequiredService<ShardNodeRegistry>();
        Assert.Equal(["node-a", "node-b", "node-c"], registry.NodeIds.Order(StringComparer.Ordinal));
        Assert.Equal(2, (await provider.GetRequiredService<IShardStore>().GetStatsAsync()).Volumes.Count);
        var evaluator = provider.GetRequiredService<StoragePolicyEvaluator>();
        var decision = evaluator.Evaluate(new StorageAccessRequest(new StoragePrincipal("did:key:z6MkOwner"), "public", "x", ObjectOperations.Write) { Size = 1001 });
        Assert.Equal(413, decision.StatusCode);
        Assert.True(evaluator.Evaluate(new StorageAccessRequest(new StoragePrincipal("did:key:z6MkStranger"), "public", "x", ObjectOperations.Read)).IsAllowed);
        Assert.False(evaluator.Evaluate(new StorageAccessRequest(new StoragePrincipal("did:key:z6MkStranger"), "public", "x", ObjectOperations.Write)).IsAllowed);
        Assert.Equal(new CodingPolicy(2, 1), evaluator.FindPolicy("public")!.Coding);

        var client = provider.GetRequiredService<IShardClient>();
        var candidates = await PlacementCandidates.FromStatsAsync(client, registry.NodeIds);
        var data = TestData.Bytes(50_000);
        var manifest = await provider.GetRequiredService<ObjectWriter>().WriteAsync(new ObjectWriteRequest("public", "x"), new MemoryStream(data), candidates);
        Assert.Equal((2, 1, 8192), (manifest.DataShards, manifest.ParityShards, manifest.ShardSize));
        using var output = new MemoryStream();
        await provider.GetRequiredService<ObjectReader>().ReadAsync(manifest, output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void AddShardStore_InvalidOptions_FailValidation()
    {
        var services = new ServiceCollection();
        services.AddShardStore(o => o.DataShards = 0);
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);
        Assert.Contains("Xmbl:Storage:DataShards", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void AddHttpShardTransport_RegistersRoutingClient()
    {
        var services = new ServiceCollection();
        services.AddShardStore();
        services.AddHttpShardTransport(o =>
        {
            o.ClusterSecret = "a-long-enough-cluster-secret";
            o.Nodes["node-x"] = "http://10.0.0.5:5000";
        });
        using var provider = services.BuildServiceProvider();

        Assert.IsType<RoutingShardClient>(provider.GetRequiredService<IShardClient>());
        Assert.True(provider.GetRequiredService<IShardNodeResolver>().TryResolve("node-x", out var address));
        Assert.Equal(new Uri("http://10.0.0.5:5000"), address);
    }
}
