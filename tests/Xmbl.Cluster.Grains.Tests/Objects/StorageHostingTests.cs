using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Tests.Jobs;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Testing;
using static Xmbl.Cluster.Grains.Tests.Objects.ObjectServiceTestExtensions;

namespace Xmbl.Cluster.Grains.Tests.Objects;

/// <summary>The silo's storage is registered through Storage's own extensions: host loggers and <c>Xmbl:Storage</c> options reach it.</summary>
[Trait("Suite", "Functional")]
public sealed class StorageHostingTests
{
    private const string Namespace = "hosting";

    // StorageEventIds.ShardFetchFailed (internal to Storage): "Shard … could not be read; reading another".
    private const int ShardFetchFailedEventId = 3020;

    [Fact]
    public async Task Read_WithAMissingShard_LogsTheFailedFetchThroughTheSilosLogger()
    {
        var logs = new CapturingLoggerProvider();
        await using var silo = await ComputeSilo.StartAsync(
            nodes: 5,
            new Dictionary<string, string?> { ["Xmbl:Storage:ShardSize"] = "4096" },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var bytes = TestBytes(20_000);
        var stored = await objects.PutBytesAsync(Namespace, "logged", bytes);
        var lost = stored.Manifest.Stripes[0].Shards.First(s => s.ShardIndex == 0);
        Assert.True(await silo.Services.GetRequiredService<IShardClient>().DeleteAsync(lost.NodeId, lost.ShardId));

        Assert.Equal(bytes, await objects.ReadBytesAsync(Namespace, "logged"));

        var entry = Assert.Single(logs.Entries, e => e.Id.Id == ShardFetchFailedEventId);
        Assert.Equal(typeof(ObjectReader).FullName, entry.Category);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains(lost.ShardId.Value, entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredVolumes_HoldEachNodesShardsUnderTheirPaths_WithTheirDirectIoSetting()
    {
        using var volumes = new TempDirectory("xmbl-volumes");
        var fast = Path.Combine(volumes.Path, "fast");
        var cached = Path.Combine(volumes.Path, "cached");
        await using var silo = await ComputeSilo.StartAsync(
            nodes: 3,
            new Dictionary<string, string?>
            {
                ["Xmbl:Storage:ShardSize"] = "4096",
                ["Xmbl:Storage:Volumes:0:Name"] = "fast",
                ["Xmbl:Storage:Volumes:0:Path"] = fast,
                ["Xmbl:Storage:Volumes:1:Name"] = "cached",
                ["Xmbl:Storage:Volumes:1:Path"] = cached,
                ["Xmbl:Storage:Volumes:1:DirectIo"] = "false",
            });
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var bytes = TestBytes(40_000);
        var stored = await objects.PutBytesAsync(Namespace, "placed", bytes);

        var nodes = silo.Services.GetRequiredService<LocalNodes>().All;
        var stores = silo.Services.GetRequiredService<NodeShardStores>();
        foreach (var node in nodes)
        {
            Assert.True(stores.TryGet(node.Id, out var store));
            var stats = await store.GetStatsAsync();
            Assert.Equal(["fast", "cached"], stats.Volumes.Select(v => v.Name));
            Assert.Equal(Path.Combine(fast, $"node-{node.Index}"), stats.Volumes[0].Path);
            Assert.Equal(Path.Combine(cached, $"node-{node.Index}"), stats.Volumes[1].Path);
            Assert.False(stats.Volumes[1].DirectIo);
            Assert.Equal(Path.Combine(fast, $"node-{node.Index}", "shard-index.db"), store.IndexPath);
            Assert.False(Directory.Exists(Path.Combine(node.Directory, "shards")), $"node {node.Index} still has the default volume");
        }

        // Every shard of the object is a file on one of the configured volumes of the node that holds it.
        var files = Directory.EnumerateFiles(volumes.Path, "*", SearchOption.AllDirectories).ToArray();
        foreach (var shard in stored.Manifest.AllShards)
        {
            var node = nodes.Single(n => n.Id == shard.NodeId);
            var file = Assert.Single(files, f => Path.GetFileName(f) == shard.ShardId.Value);
            Assert.True(
                file.StartsWith(Path.Combine(fast, $"node-{node.Index}") + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                || file.StartsWith(Path.Combine(cached, $"node-{node.Index}") + Path.DirectorySeparatorChar, StringComparison.Ordinal),
                $"shard {shard.ShardId} of {shard.NodeId} is at {file}");
        }

        Assert.Equal(bytes, await objects.ReadBytesAsync(Namespace, "placed"));
    }

    [Fact]
    public async Task ConfiguredVolumes_WithAnIndexPath_FailStartupNamingTheSetting()
    {
        using var volumes = new TempDirectory("xmbl-volumes");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ComputeSilo.StartAsync(
            nodes: 2,
            new Dictionary<string, string?>
            {
                ["Xmbl:Storage:Volumes:0:Name"] = "disk",
                ["Xmbl:Storage:Volumes:0:Path"] = volumes.Path,
                ["Xmbl:Storage:IndexPath"] = Path.Combine(volumes.Path, "index.db"),
            }));

        Assert.Contains("Xmbl:Storage:IndexPath", error.Message, StringComparison.Ordinal);
    }
}
