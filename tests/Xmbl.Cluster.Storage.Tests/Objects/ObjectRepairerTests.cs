using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class ObjectRepairerTests
{
    private static ObjectWriteRequest Request(int k = 3, int m = 2) =>
        new("ns", "obj") { DataShards = k, ParityShards = m, ShardSize = 4096 };

    private static async Task<byte[]> ReadAsync(LocalNodes nodes, ObjectManifest manifest)
    {
        using var output = new MemoryStream();
        await new ObjectReader(nodes.Client).ReadAsync(manifest, output);
        return output.ToArray();
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Repair_FlippedByte_ScrubFindsItAndRepairRewritesIt()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(40_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());
        var victim = manifest.Stripes[2].Shards[4];
        var path = nodes.ShardFile(victim);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[0] ^= 1;
        await File.WriteAllBytesAsync(path, bytes);
        var repairer = new ObjectRepairer(nodes.Client);

        Assert.Equal(data, await ReadAsync(nodes, manifest));
        var nodeReport = await nodes.Store(victim.NodeId).ScrubAllAsync();
        Assert.Equal(victim.ShardId, Assert.Single(nodeReport.Unhealthy).Id);
        var bad = await repairer.ScrubAsync(manifest, nodes.LiveNodes());
        Assert.Equal([victim.ShardId], bad);

        var result = await repairer.RepairAsync(manifest, nodes.Candidates(), bad);

        Assert.True(result.Changed);
        Assert.Equal(1, result.RepairedShards);
        Assert.Equal(victim, Assert.Single(result.Superseded));
        Assert.False(result.HealthBefore.IsFullyHealthy);
        Assert.True(result.HealthAfter.IsFullyHealthy);
        var replacement = result.Manifest.Stripes[2].Shards[4];
        Assert.NotEqual(victim.ShardId, replacement.ShardId);
        Assert.Equal(victim.Sha256, replacement.Sha256);
        Assert.Equal(5, result.Manifest.Stripes[2].Shards.Select(p => p.NodeId).Distinct().Count());
        Assert.Empty(await repairer.ScrubAsync(result.Manifest, nodes.LiveNodes()));

        Assert.Equal(1, await repairer.DeleteSupersededAsync(result));
        Assert.Null(await nodes.Store(victim.NodeId).GetInfoAsync(victim.ShardId));
        Assert.Equal(data, await ReadAsync(nodes, result.Manifest));
        Assert.Empty((await nodes.Store(victim.NodeId).ScrubAllAsync()).Unhealthy);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Repair_NodeDead_RestoresEveryStripeToFullHealthOnLiveNodes()
    {
        using var nodes = new LocalNodes(7);
        var data = TestData.Bytes(150_000);
        var candidates = nodes.Candidates().Take(5).ToArray();
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), candidates);
        nodes.Kill("node-1");
        nodes.Kill("node-3");
        var live = nodes.LiveNodes();
        var before = ObjectHealth.Evaluate(manifest, live);
        Assert.True(before.IsReadable);
        Assert.Equal(3, before.MinHealthyShards);

        var result = await new ObjectRepairer(nodes.Client).RepairAsync(manifest, nodes.Candidates());

        Assert.Equal(manifest.Stripes.Count * 2, result.RepairedShards);
        Assert.Empty(result.UnrecoverableStripes);
        var after = ObjectHealth.Evaluate(result.Manifest, live);
        Assert.True(after.IsFullyHealthy);
        Assert.All(after.Stripes, s => Assert.Equal(5, s.Healthy));
        foreach (var stripe in result.Manifest.Stripes)
        {
            Assert.DoesNotContain(stripe.Shards, p => p.NodeId is "node-1" or "node-3");
            Assert.Equal(5, stripe.Shards.Select(p => p.NodeId).Distinct().Count());
        }

        Assert.Equal(data, await ReadAsync(nodes, result.Manifest));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Repair_NodeDeadWithFewerNodesThanShards_KeepsReadableAndFullyHealthy()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(60_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());
        nodes.Kill("node-0");

        var result = await new ObjectRepairer(nodes.Client).RepairAsync(manifest, nodes.Candidates());

        Assert.True(result.HealthAfter.IsFullyHealthy);
        Assert.All(result.Manifest.Stripes, s => Assert.Equal(4, s.Shards.Select(p => p.NodeId).Distinct().Count()));
        Assert.Equal(data, await ReadAsync(nodes, result.Manifest));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Repair_HealthyObject_ChangesNothing()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(TestData.Bytes(20_000)), nodes.Candidates());
        var shardsBefore = await nodes.TotalShardsAsync();

        var result = await new ObjectRepairer(nodes.Client).RepairAsync(manifest, nodes.Candidates());

        Assert.False(result.Changed);
        Assert.Same(manifest, result.Manifest);
        Assert.Equal(shardsBefore, await nodes.TotalShardsAsync());
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Repair_TooManyShardsLost_ReportsUnrecoverableStripe()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(TestData.Bytes(20_000)), nodes.Candidates());
        var lost = manifest.Stripes[0].Shards.Take(3).Select(p => p.ShardId).ToHashSet();

        var log = new CapturingLogger<ObjectRepairer>();
        var result = await new ObjectRepairer(nodes.Client, logger: log).RepairAsync(manifest, nodes.Candidates(), lost);

        Assert.Equal([0], result.UnrecoverableStripes);
        Assert.Contains(log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Id.Id == 3041);
        Assert.False(result.HealthAfter.IsReadable);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Repair_ShardDeletedBehindItsBack_FoundDuringFetchAndRebuilt()
    {
        using var nodes = new LocalNodes(6);
        var data = TestData.Bytes(10_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates().Take(5).ToArray());
        var dead = manifest.Stripes[0].Shards[4];
        var silentlyLost = manifest.Stripes[0].Shards[0];
        nodes.Kill(dead.NodeId);
        await nodes.Store(silentlyLost.NodeId).DeleteAsync(silentlyLost.ShardId);

        var result = await new ObjectRepairer(nodes.Client).RepairAsync(manifest, nodes.Candidates());

        Assert.Equal(2, result.RepairedShards);
        Assert.Contains(result.Superseded, p => p.ShardId == silentlyLost.ShardId);
        Assert.Equal(data, await ReadAsync(nodes, result.Manifest));
        Assert.Empty(await new ObjectRepairer(nodes.Client).ScrubAsync(result.Manifest, nodes.LiveNodes()));
    }
}
