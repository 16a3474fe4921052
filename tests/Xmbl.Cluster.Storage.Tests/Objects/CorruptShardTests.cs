using System.Collections.Concurrent;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Objects;

/// <summary>
/// Shards a node holds altered: the reader, scrub and repair tell the <see cref="ICorruptShardObserver"/> which node
/// and shard, once per pass; lost shards are not reported; placement keeps new shards off such nodes.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class CorruptShardTests
{
    private static ObjectWriteRequest Request() => new("ns", "obj") { DataShards = 3, ParityShards = 2, ShardSize = 4096 };

    [Fact]
    public async Task Read_ReportsTheNodeThatSentAnAlteredShard_OncePerRead_AndNotAMissingShard()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(40_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());
        var altered = manifest.Stripes[0].Shards.Single(p => p.ShardIndex == 0);
        await FlipByteAsync(nodes, altered);
        var faults = new FaultInjectingShardClient(nodes.Client);
        faults.Hidden[manifest.Stripes[1].Shards.Single(p => p.ShardIndex == 1).ShardId] = 0;
        var observer = new RecordingObserver();
        var reader = new ObjectReader(faults, corrupt: observer);

        var first = await ReadAllAsync(reader, manifest);
        var afterFirst = observer.Reports.ToArray();
        var second = await ReadAllAsync(reader, manifest);

        Assert.Equal(data, first);
        Assert.Equal(data, second);
        Assert.Equal([(altered.NodeId, altered.ShardId)], afterFirst);
        // Each read is a pass of its own: the observer hears of the shard again and decides what a repeat is worth.
        Assert.Equal([(altered.NodeId, altered.ShardId), (altered.NodeId, altered.ShardId)], observer.Reports);
    }

    [Fact]
    public async Task Put_ANodeAnswersWithOtherBytesHash_IsReportedOnce_AndTheShardIsStoredOnAnotherNode()
    {
        using var nodes = new LocalNodes(6);
        var faults = new FaultInjectingShardClient(nodes.Client);
        faults.AlteringPutNodes["node-0"] = 0;
        var observer = new RecordingObserver();
        var data = TestData.Bytes(10_000);

        var manifest = await new ObjectWriter(faults, corrupt: observer).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates());

        var report = Assert.Single(observer.Reports);
        Assert.Equal("node-0", report.NodeId);
        Assert.All(manifest.Stripes, s => Assert.DoesNotContain(s.Shards, p => p.NodeId == "node-0"));
        Assert.Equal(data, await ReadAllAsync(new ObjectReader(nodes.Client), manifest));
    }

    [Fact]
    public async Task Scrub_ReportsAlteredShards_ButNotMissingOnes()
    {
        using var nodes = new LocalNodes(5);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(TestData.Bytes(40_000)), nodes.Candidates());
        var altered = manifest.Stripes[1].Shards[2];
        var missing = manifest.Stripes[2].Shards[3];
        await FlipByteAsync(nodes, altered);
        await nodes.Store(missing.NodeId).DeleteAsync(missing.ShardId);
        var observer = new RecordingObserver();

        var bad = await new ObjectRepairer(nodes.Client, corrupt: observer).ScrubAsync(manifest, nodes.LiveNodes());

        Assert.Equal(new HashSet<ShardId> { altered.ShardId, missing.ShardId }, bad);
        Assert.Equal([(altered.NodeId, altered.ShardId)], observer.Reports);
    }

    [Fact]
    public async Task Repair_PutsNoReplacementOnTheNodeThatAlteredTheShard_WhenAnotherNodeCanTakeIt()
    {
        // Five nodes hold one shard of each stripe; node-0 alters all of its shards; node-5 is spare.
        using var nodes = new LocalNodes(6);
        var data = TestData.Bytes(60_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates().Take(5).ToArray());
        var altered = manifest.Stripes.Select(s => s.Shards.Single(p => p.NodeId == "node-0")).ToArray();
        foreach (var shard in altered)
        {
            await FlipByteAsync(nodes, shard);
        }

        var observer = new RecordingObserver();
        var repairer = new ObjectRepairer(nodes.Client, corrupt: observer);
        var bad = await repairer.ScrubAsync(manifest, nodes.LiveNodes());

        var result = await repairer.RepairAsync(manifest, nodes.Candidates(), bad);

        Assert.Equal(manifest.Stripes.Count, result.RepairedShards);
        Assert.True(result.HealthAfter.IsFullyHealthy);
        Assert.All(result.Manifest.Stripes, s => Assert.Equal(["node-1", "node-2", "node-3", "node-4", "node-5"], s.Shards.Select(p => p.NodeId).Order(StringComparer.Ordinal)));
        Assert.Equal(altered.Select(p => (p.NodeId, p.ShardId)).ToHashSet(), observer.Reports.ToHashSet());
        Assert.Equal(altered.Length, observer.Reports.Count);
        using var output = new MemoryStream();
        await new ObjectReader(nodes.Client).ReadAsync(result.Manifest, output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public async Task Repair_ReportsAShardFoundAlteredWhileRebuilding_AndRebuildsItToo()
    {
        // Stripe 0 lost a shard with node-4; fetching k shards to rebuild it meets node-0's altered shard.
        using var nodes = new LocalNodes(7);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(TestData.Bytes(12_000)), nodes.Candidates().Take(5).ToArray());
        var stripe = Assert.Single(manifest.Stripes);
        var altered = stripe.Shards.Single(p => p.ShardIndex == 0);
        await FlipByteAsync(nodes, altered);
        var lost = stripe.Shards.First(p => p.NodeId != altered.NodeId && p.ShardIndex != 0);
        nodes.Kill(lost.NodeId);
        var observer = new RecordingObserver();

        var result = await new ObjectRepairer(nodes.Client, corrupt: observer).RepairAsync(manifest, nodes.Candidates());

        Assert.Equal(2, result.RepairedShards);
        Assert.Equal([(altered.NodeId, altered.ShardId)], observer.Reports);
        var replacements = result.Manifest.Stripes[0].Shards.Where(p => p.ShardIndex == 0 || p.ShardIndex == lost.ShardIndex).Select(p => p.NodeId);
        Assert.Equal(["node-5", "node-6"], replacements.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ExcludedNodes_GetNoNewShards_FromTheWriterOrRepair_ButTheShardsTheyHoldStillCount()
    {
        using var nodes = new LocalNodes(7);
        var data = TestData.Bytes(40_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), nodes.Candidates().Take(5).ToArray());
        nodes.Kill("node-1");
        var candidates = nodes.Candidates().Select(c => c.NodeId is "node-0" or "node-5" ? c with { Excluded = true } : c).ToArray();

        var repaired = await new ObjectRepairer(nodes.Client).RepairAsync(manifest, candidates);
        var written = await new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), candidates);

        // Only node-1's shards were lost: node-0 is excluded from placement, not dead.
        Assert.Equal(manifest.Stripes.Count, repaired.RepairedShards);
        Assert.All(repaired.Manifest.Stripes, s => Assert.Contains(s.Shards, p => p.NodeId == "node-0"));
        Assert.All(repaired.Manifest.Stripes, s => Assert.Equal("node-6", s.Shards.Single(p => p.ShardIndex == manifest.Stripes[s.Index].Shards.Single(q => q.NodeId == "node-1").ShardIndex).NodeId));
        Assert.DoesNotContain(written.AllShards, p => p.NodeId is "node-0" or "node-5");
        var none = await Assert.ThrowsAsync<InsufficientShardNodesException>(() => new ObjectWriter(nodes.Client).WriteAsync(Request(), new MemoryStream(data), [.. candidates.Select(c => c with { Excluded = true })]));
        Assert.Contains("the 6 live node(s) are excluded from placement", none.Message, StringComparison.Ordinal);
    }

    private static async Task FlipByteAsync(LocalNodes nodes, ShardPlacement shard)
    {
        var path = nodes.ShardFile(shard);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[0] ^= 1;
        await File.WriteAllBytesAsync(path, bytes);
    }

    private static async Task<byte[]> ReadAllAsync(ObjectReader reader, ObjectManifest manifest)
    {
        using var output = new MemoryStream();
        await reader.ReadAsync(manifest, output);
        return output.ToArray();
    }

    private sealed class RecordingObserver : ICorruptShardObserver
    {
        private readonly ConcurrentQueue<(string, ShardId)> _reports = new();

        public List<(string NodeId, ShardId ShardId)> Reports => [.. _reports];

        public void OnCorruptShard(string nodeId, ShardId shardId) => _reports.Enqueue((nodeId, shardId));
    }
}
