using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Tests.Jobs;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Testing;
using static Xmbl.Cluster.Grains.Tests.Objects.ObjectServiceTestExtensions;

namespace Xmbl.Cluster.Grains.Tests.Objects;

/// <summary>The repair pass reclaiming shards that no manifest names (left by cut-off writes or unreachable deletes).</summary>
[Trait("Suite", "Functional")]
public sealed class OrphanShardTests
{
    private const string Namespace = "orphans";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Xmbl:Storage:ShardSize"] = "4096",
        ["Xmbl:Storage:RepairPeriod"] = "00:00:00",
        ["Xmbl:Storage:OrphanGracePeriod"] = "01:00:00",
        // The test moves the clock by hours; nodes must not be seen dead meanwhile.
        ["Xmbl:Node:DeathTimeout"] = "2.00:00:00",
    };

    [Fact]
    public async Task RepairPass_DeletesOrphansOlderThanTheGracePeriod_KeepsYoungerOnesAndEveryCommittedShard()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var silo = await ComputeSilo.StartAsync(nodes: 5, Settings, clock);
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var shards = silo.Services.GetRequiredService<IShardClient>();
        var nodeIds = silo.Services.GetRequiredService<ShardNodeRegistry>().NodeIds.Order(StringComparer.Ordinal).ToArray();
        var first = TestBytes(50_000, seed: 1);
        var second = TestBytes(7, seed: 2);
        var a = await objects.PutBytesAsync(Namespace, "a", first);
        var b = await objects.PutBytesAsync(Namespace, "b", second);
        var oldOrphan = await PutOrphanAsync(shards, nodeIds[0]);
        var deletedObject = await objects.PutBytesAsync(Namespace, "gone", TestBytes(9000, seed: 3));
        var deletedShards = deletedObject.Manifest.AllShards.ToArray();
        await objects.DeleteAsync(Key(Namespace, "gone"), default);
        foreach (var shard in deletedShards)
        {
            // As if the delete had reached no node: the shards stay, named by no manifest.
            await shards.PutAsync(shard.NodeId, shard.ShardId, new MemoryStream([1]), 1, null);
        }

        clock.Advance(TimeSpan.FromHours(2));
        var youngOrphan = await PutOrphanAsync(shards, nodeIds[1]);

        var pass = await silo.Services.GetRequiredService<StorageRepairService>().RunPassAsync(default);

        Assert.Equal(1 + deletedShards.Length, pass.OrphansDeleted);
        Assert.Equal(2, pass.CheckedObjects);
        Assert.False(await ExistsAsync(shards, nodeIds[0], oldOrphan));
        foreach (var shard in deletedShards)
        {
            Assert.False(await ExistsAsync(shards, shard.NodeId, shard.ShardId), $"orphan {shard.ShardId} on {shard.NodeId} was kept");
        }

        Assert.True(await ExistsAsync(shards, nodeIds[1], youngOrphan));
        foreach (var shard in a.Manifest.AllShards.Concat(b.Manifest.AllShards))
        {
            Assert.True(await ExistsAsync(shards, shard.NodeId, shard.ShardId), $"committed shard {shard.ShardId} on {shard.NodeId} was deleted");
        }

        Assert.Equal(first, await objects.ReadBytesAsync(Namespace, "a"));
        Assert.Equal(second, await objects.ReadBytesAsync(Namespace, "b"));
    }

    [Fact]
    public async Task RepairPass_OrphanYoungerThanTheGracePeriod_Stays()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var silo = await ComputeSilo.StartAsync(nodes: 3, Settings, clock);
        var shards = silo.Services.GetRequiredService<IShardClient>();
        var node = silo.Services.GetRequiredService<ShardNodeRegistry>().NodeIds.First();
        var orphan = await PutOrphanAsync(shards, node);

        clock.Advance(TimeSpan.FromMinutes(59));
        var pass = await silo.Services.GetRequiredService<StorageRepairService>().RunPassAsync(default);

        Assert.Equal(0, pass.OrphansDeleted);
        Assert.True(await ExistsAsync(shards, node, orphan));
    }

    private static async Task<ShardId> PutOrphanAsync(IShardClient shards, string nodeId)
    {
        var id = ShardId.New();
        await shards.PutAsync(nodeId, id, new MemoryStream([1, 2, 3]), 3, null);
        return id;
    }

    private static async Task<bool> ExistsAsync(IShardClient shards, string nodeId, ShardId id) =>
        (await shards.ScrubAsync(nodeId, id)).Status != ShardHealthStatus.Missing;
}
