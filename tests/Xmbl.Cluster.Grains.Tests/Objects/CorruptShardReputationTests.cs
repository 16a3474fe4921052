using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Tests.Jobs;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Testing;
using static Xmbl.Cluster.Grains.Tests.Objects.ObjectServiceTestExtensions;

namespace Xmbl.Cluster.Grains.Tests.Objects;

/// <summary>
/// A node holding shards altered loses reputation through the reputation grain the jobs use, once per shard however
/// often it is read, and placement keeps new shards off it (docs/reliability.md, "Altered shards").
/// </summary>
[Trait("Suite", "Functional")]
public sealed class CorruptShardReputationTests
{
    private const string Namespace = "corrupt";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Xmbl:Storage:ShardSize"] = "4096",
        ["Xmbl:Storage:RepairPeriod"] = "00:00:00",
    };

    [Fact]
    public async Task ANodeSendingBackAnAlteredShard_LosesReputationOnceForIt_HoweverOftenItIsReadAndScrubbed_AndRepairRebuildsItElsewhere()
    {
        // A clock that stands still: the score does not recover between the checks.
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var silo = await ComputeSilo.StartAsync(nodes: 6, Settings, clock);
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var reputation = silo.Services.GetRequiredService<ShardHolderReputation>();
        var data = TestBytes(9000, seed: 11);
        var stored = await objects.PutBytesAsync(Namespace, "a", data);
        var victim = Assert.Single(stored.Manifest.Stripes).Shards.Single(p => p.ShardIndex == 0);
        await AlterAsync(silo, victim);

        // A storm of reads and two scrubs all meet the same altered shard.
        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => objects.ReadBytesAsync(Namespace, "a")));
        var health = await objects.HealthAsync(stored, default);
        await objects.HealthAsync(stored, default);
        await reputation.WhenRecordedAsync();
        var after = await silo.Grains.GetGrain<INodeReputationGrain>(victim.NodeId).GetAsync();
        // Another silo finding the same shard changes nothing either.
        var again = await silo.Grains.GetGrain<INodeReputationGrain>(victim.NodeId).RecordCorruptShardAsync(victim.ShardId.Value, clock.GetUtcNow());
        var pass = await silo.Services.GetRequiredService<StorageRepairService>().RunPassAsync(default);
        var repaired = (await objects.GetAsync(Key(Namespace, "a")))!;

        Assert.All(reads, r => Assert.Equal(data, r));
        Assert.Equal(4, health.HealthyShards);
        Assert.Equal(1, after.CorruptShards);
        Assert.Equal(after, again);
        Assert.Equal(NodeReputationGrain.Apply(NodeReputation.InitialScore, 0, 1, 0), after.Score, 12);
        Assert.Equal(after.Score, silo.Services.GetRequiredService<JobScheduler>().ReputationOf(victim.NodeId), 12);
        Assert.Equal(1, pass.RepairedShards);
        var replacement = Assert.Single(repaired.Manifest.Stripes).Shards.Single(p => p.ShardIndex == 0);
        Assert.NotEqual(victim.NodeId, replacement.NodeId);
        Assert.Equal(6, repaired.Manifest.Stripes[0].Shards.Select(p => p.NodeId).Append(victim.NodeId).Distinct().Count());
        Assert.Equal(data, await objects.ReadBytesAsync(Namespace, "a"));
    }

    [Fact]
    public async Task ANodeBelowTheSchedulersMinimumReputation_GetsNoNewShards_ButTheShardsItHoldsStillCount()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var silo = await ComputeSilo.StartAsync(nodes: 5, Settings, clock);
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var reputation = silo.Services.GetRequiredService<ShardHolderReputation>();
        var kept = await objects.PutBytesAsync(Namespace, "kept", TestBytes(9000, seed: 1));
        var liar = kept.Manifest.Stripes[0].Shards[0].NodeId;

        // Three altered shards: 0.5 × 0.7³ ≈ 0.17, below the minimum of 0.2. Five nodes, five shards: each object has one on it.
        for (var i = 0; i < 3; i++)
        {
            var stored = await objects.PutBytesAsync(Namespace, $"bad-{i}", TestBytes(9000, seed: 20 + i));
            await AlterAsync(silo, stored.Manifest.Stripes[0].Shards.Single(p => p.NodeId == liar));
            await objects.HealthAsync(stored, default);
        }

        await reputation.WhenRecordedAsync();
        var score = (await silo.Grains.GetGrain<INodeReputationGrain>(liar).GetAsync()).Score;
        var fresh = await objects.PutBytesAsync(Namespace, "fresh", TestBytes(50_000, seed: 2));
        var keptHealth = await objects.HealthAsync(kept, default);

        Assert.True(score < ComputeOptionsMinimum, $"score {score}");
        Assert.DoesNotContain(fresh.Manifest.AllShards, p => p.NodeId == liar);
        Assert.True(keptHealth.IsFullyHealthy);
        Assert.Equal(TestBytes(50_000, seed: 2), await objects.ReadBytesAsync(Namespace, "fresh"));
    }

    [Fact]
    public async Task WithoutAScheduler_AsInAStandaloneGateway_PlacementReadsTheRecordedReputations()
    {
        // A silo without compute has no scheduler: the scores come from the reputation grains' stored state.
        await using var silo = await Ledger.LedgerSilo.StartAsync();
        var reputation = silo.Services.GetRequiredService<ShardHolderReputation>();
        Assert.Null(silo.Services.GetService<JobScheduler>());
        var (liar, honest) = (Ledger.LedgerSilo.NewAccount(), Ledger.LedgerSilo.NewAccount());

        Assert.Empty(await reputation.BelowMinimumAsync([liar, honest], default));
        for (var i = 0; i < 3; i++)
        {
            var shard = Xmbl.Cluster.Storage.Shards.ShardId.New();
            reputation.OnCorruptShard(liar, shard);
            reputation.OnCorruptShard(liar, shard);
        }

        await reputation.WhenRecordedAsync();
        var below = await reputation.BelowMinimumAsync([liar, honest], default);

        Assert.Equal([liar], below);
        Assert.Equal(3, (await silo.Grain<INodeReputationGrain>(liar).GetAsync()).CorruptShards);
    }

    private const double ComputeOptionsMinimum = Xmbl.Cluster.Grains.Jobs.Options.ComputeOptions.DefaultMinReputation;

    /// <summary>Replaces the shard's bytes on its node with others of the same length: the node now holds it altered.</summary>
    private static async Task AlterAsync(ComputeSilo silo, ShardPlacement shard)
    {
        var shards = silo.Services.GetRequiredService<IShardClient>();
        byte[] bytes;
        await using (var original = await shards.OpenReadAsync(shard.NodeId, shard.ShardId, shard.Sha256))
        {
            using var copy = new MemoryStream();
            await original.CopyToAsync(copy);
            bytes = copy.ToArray();
        }

        bytes[^1] ^= 0x5a;
        await shards.PutAsync(shard.NodeId, shard.ShardId, new MemoryStream(bytes), bytes.Length, null);
    }
}
