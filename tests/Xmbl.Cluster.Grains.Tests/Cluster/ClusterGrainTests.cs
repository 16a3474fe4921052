using Orleans.Core.Internal;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Grains.Tests.Cluster;

/// <summary>The grains that need no silo composition, on Orleans' test cluster, checked against their stored rows.</summary>
[Trait("Suite", "Functional")]
[Collection(GrainClusterCollection.Name)]
public sealed class ClusterGrainTests(GrainTestCluster cluster)
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task NodeGrain_RegistersAndHeartbeats_IgnoresOlderHeartbeats_AndKeepsItsFirstRegistration()
    {
        var node = cluster.Grains.GetGrain<INodeGrain>("did:key:node-a");
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.HeartbeatAsync(new NodeHeartbeat(T0, 0, 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => node.RegisterAsync(Registration("did:key:other", T0)));
        Assert.Null(await node.GetAsync());
        Assert.Null(await cluster.Storage.GetAsync<NodeGrainState>(GrainStates.Node, "did:key:node-a"));

        await node.RegisterAsync(Registration("did:key:node-a", T0));
        await node.HeartbeatAsync(new NodeHeartbeat(T0.AddSeconds(2), RunningJobs: 3, UsedStorageBytes: 100));
        var afterHeartbeat = await cluster.Storage.GetAsync<NodeGrainState>(GrainStates.Node, "did:key:node-a");
        await node.HeartbeatAsync(new NodeHeartbeat(T0.AddSeconds(1), RunningJobs: 9, UsedStorageBytes: 900));
        var afterStale = await cluster.Storage.GetAsync<NodeGrainState>(GrainStates.Node, "did:key:node-a");
        await node.RegisterAsync(Registration("did:key:node-a", T0.AddMinutes(5)));
        await node.RetireAsync(T0.AddMinutes(6));
        var stored = (await cluster.Storage.GetAsync<NodeGrainState>(GrainStates.Node, "did:key:node-a"))!.State.Node!;

        Assert.Equal(3, afterHeartbeat!.State.Node!.RunningJobs);
        Assert.Equal(afterHeartbeat.Version, afterStale!.Version);
        Assert.Equal(T0, stored.RegisteredAt);
        Assert.Equal(100, stored.UsedStorageBytes);
        Assert.True(stored.Retired);
        Assert.Equal(T0.AddMinutes(6), stored.LastHeartbeat);
        Assert.Equal(stored, await node.GetAsync());
    }

    [Fact]
    public async Task NodeGrain_OperatorSettings_ApplyOverTheAnnouncement_MergeField_ByField_AndOutliveReRegistrationAndDeactivation()
    {
        var node = cluster.Grains.GetGrain<INodeGrain>("did:key:node-settings");
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.UpdateSettingsAsync(new NodeSettings(2, null, null, null, null)));
        var announced = (await node.RegisterAsync(Registration("did:key:node-settings", T0))).Resources;

        var cores = await node.UpdateSettingsAsync(new NodeSettings(Cores: 4, MemoryBytes: null, Concurrency: null, PricePerMillionFuel: null, PricePerGbMonth: null));
        var price = await node.UpdateSettingsAsync(new NodeSettings(null, MemoryBytes: 2L << 30, Concurrency: 1, PricePerMillionFuel: 0.5m, PricePerGbMonth: null));
        await node.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var reRegistered = await node.RegisterAsync(Registration("did:key:node-settings", T0.AddMinutes(1)));
        var stored = (await cluster.Storage.GetAsync<NodeGrainState>(GrainStates.Node, "did:key:node-settings"))!.State;

        // Cores alone: the concurrency follows them; the rest stays as announced.
        Assert.Equal(announced with { Cores = 4, Concurrency = 4 }, cores.Resources);
        Assert.Equal(Registration("x", T0).Prices, cores.Prices);
        // A later change keeps the earlier one's fields it does not name.
        Assert.Equal(announced with { Cores = 4, Concurrency = 1, MemoryBytes = 2L << 30 }, price.Resources);
        Assert.Equal(0.5m, price.Prices.PerMillionFuel);
        Assert.Equal(Registration("x", T0).Prices.PerGbMonth, price.Prices.PerGbMonth);
        // The node announcing itself again (a restart) does not undo them.
        Assert.Equal(price.Resources, reRegistered.Resources);
        Assert.Equal(price.Prices, reRegistered.Prices);
        Assert.Equal(reRegistered, stored.Node);
        Assert.Equal(announced, stored.AnnouncedResources);
    }

    [Fact]
    public async Task NodeGrain_Leave_StartsOnce_ResumesAfterReRegistering_AndOnceLeftStaysRetiredThroughHeartbeats()
    {
        var node = cluster.Grains.GetGrain<INodeGrain>("did:key:node-leave");
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.BeginLeaveAsync(T0, 3));
        await node.RegisterAsync(Registration("did:key:node-leave", T0));

        var leave = await node.BeginLeaveAsync(T0.AddSeconds(1), shards: 7);
        var again = await node.BeginLeaveAsync(T0.AddSeconds(5), shards: 1);
        await node.UpdateLeaveAsync(leave with { ShardsMoved = 4, ShardsLeft = 3 });
        await node.UpdateLeaveAsync(leave with { StartedAt = T0, ShardsMoved = 99 });
        await node.RegisterAsync(Registration("did:key:node-leave", T0.AddMinutes(1)));
        var resumed = (await node.GetAsync())!;
        await node.UpdateLeaveAsync(leave with { Phase = NodeLeavePhase.Left, ShardsMoved = 7, ShardsLeft = 0, FinishedAt = T0.AddMinutes(2) });
        await node.HeartbeatAsync(new NodeHeartbeat(T0.AddMinutes(3), 0, 0));
        await node.UpdateLeaveAsync(leave with { ShardsMoved = 5 });
        var left = (await cluster.Storage.GetAsync<NodeGrainState>(GrainStates.Node, "did:key:node-leave"))!.State.Node!;
        await node.RegisterAsync(Registration("did:key:node-leave", T0.AddMinutes(10)));
        var rejoined = (await node.GetAsync())!;

        Assert.Equal(new NodeLeave(NodeLeavePhase.Leaving, T0.AddSeconds(1), 7, 0, 7, 0), leave);
        Assert.Equal(leave, again);
        // A report of another (older) leave changes nothing; registering again keeps the leave under way.
        Assert.Equal(leave with { ShardsMoved = 4, ShardsLeft = 3 }, resumed.Leave);
        Assert.False(resumed.AcceptsWork);
        Assert.Equal(NodeLeavePhase.Left, left.Leave!.Phase);
        Assert.Equal(7, left.Leave.ShardsMoved);
        Assert.True(left.Retired);
        Assert.False(left.IsAlive(T0.AddMinutes(3), TimeSpan.FromMinutes(1)));
        // A node that left and starts again joins as new.
        Assert.Null(rejoined.Leave);
        Assert.True(rejoined.AcceptsWork);
    }

    [Fact]
    public async Task ObjectGrain_SwapManifest_OnlyOverTheShardsTheCallerRead()
    {
        var grain = cluster.Grains.GetGrain<IObjectGrain>("ns/object-swap");
        var original = Manifest("node-1");
        await grain.CommitAsync(new StoredObject("v1", "did:key:owner", original));
        var handedOff = Manifest("node-2");
        var staleRepair = Manifest("node-3");

        Assert.True(await grain.SwapManifestAsync(original, handedOff));
        Assert.False(await grain.SwapManifestAsync(original, staleRepair));
        Assert.Equal("node-2", (await grain.GetAsync())!.Manifest.Stripes[0].Shards[0].NodeId);
        Assert.Equal("v1", (await grain.GetAsync())!.VersionId);
        Assert.False(await cluster.Grains.GetGrain<IObjectGrain>("ns/object-none").SwapManifestAsync(original, handedOff));
    }

    [Fact]
    public async Task NodeReputationGrain_RecordsOutcomes_RecoversOnRead_AndRefusesNegativeCounts()
    {
        var reputation = cluster.Grains.GetGrain<INodeReputationGrain>("did:key:reputation-a");
        var at = GrainTestCluster.Clock.GetUtcNow();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => reputation.RecordAsync(new ReputationDelta(0, -1, 0, at)));
        var outvoted = await reputation.RecordAsync(new ReputationDelta(0, 1, 0, at));
        var stored = await cluster.Storage.GetAsync<NodeReputationGrainState>(GrainStates.Reputation, "did:key:reputation-a");
        GrainTestCluster.Clock.Advance(TimeSpan.FromMinutes(10));
        var recovered = await reputation.GetAsync();
        var storedAfterRead = await cluster.Storage.GetAsync<NodeReputationGrainState>(GrainStates.Reputation, "did:key:reputation-a");

        Assert.Equal(0.35, outvoted.Score, 12);
        Assert.Equal(1, stored!.Version);
        Assert.Equal(0.35, stored.State.Score, 12);
        Assert.Equal(1, stored.State.Disagreements);
        // One default half-life (10 min) later the distance to 0.5 has halved; the read wrote nothing.
        Assert.Equal(0.425, recovered.Score, 9);
        Assert.Equal(1, storedAfterRead!.Version);
    }

    [Fact]
    public async Task ObjectGrain_CommitsReplacesAndDeletes_ARepairNeverOverwritesANewerVersion()
    {
        var grain = cluster.Grains.GetGrain<IObjectGrain>("ns/object-a");
        var v1 = new StoredObject("v1", "did:key:owner", Manifest("node-1"));
        var v2 = new StoredObject("v2", "did:key:owner", Manifest("node-2"));

        Assert.Null(await grain.CommitAsync(v1));
        Assert.Equal("v1", (await grain.CommitAsync(v2))!.VersionId);
        var beforeStaleRepair = await cluster.Storage.GetAsync<ObjectGrainState>(GrainStates.Object, "ns/object-a");
        Assert.False(await grain.ReplaceManifestAsync("v1", Manifest("node-3")));
        var afterStaleRepair = await cluster.Storage.GetAsync<ObjectGrainState>(GrainStates.Object, "ns/object-a");
        Assert.True(await grain.ReplaceManifestAsync("v2", Manifest("node-4")));
        var repaired = await cluster.Storage.GetAsync<ObjectGrainState>(GrainStates.Object, "ns/object-a");

        Assert.Equal(beforeStaleRepair!.Version, afterStaleRepair!.Version);
        Assert.Equal("v2", repaired!.State.Current!.VersionId);
        Assert.Equal("node-4", repaired.State.Current.Manifest.Stripes[0].Shards[0].NodeId);
        Assert.Equal(repaired.State.Current.Manifest.Stripes[0].Shards, (await grain.GetAsync())!.Manifest.Stripes[0].Shards);

        Assert.Equal("v2", (await grain.DeleteAsync())!.VersionId);
        Assert.Null((await cluster.Storage.GetAsync<ObjectGrainState>(GrainStates.Object, "ns/object-a"))!.State.Current);
        Assert.Null(await grain.GetAsync());
    }

    [Fact]
    public async Task ObjectGrain_CommittedManifest_SurvivesDeactivation()
    {
        var grain = cluster.Grains.GetGrain<IObjectGrain>("ns/object-b");
        var version = new StoredObject("v1", "did:key:owner", Manifest("node-1"));
        await grain.CommitAsync(version);

        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var read = await grain.GetAsync();

        Assert.Equal(version.VersionId, read!.VersionId);
        Assert.Equal(version.Manifest.Sha256, read.Manifest.Sha256);
        Assert.Equal(version.Manifest.Stripes[0].Shards, read.Manifest.Stripes[0].Shards);
    }

    [Fact]
    public async Task StorageUsageGrain_ChargesWithinTheLimit_RefusesPastIt_AndNeverGoesBelowZero()
    {
        var usage = cluster.Grains.GetGrain<IStorageUsageGrain>(StorageUsageGrain.AccountKey("did:key:usage-a"));

        Assert.True(await usage.TryChargeAsync(600, 1, limit: 1000));
        var charged = await cluster.Storage.GetAsync<StorageUsageGrainState>(GrainStates.Usage, StorageUsageGrain.AccountKey("did:key:usage-a"));
        Assert.False(await usage.TryChargeAsync(401, 1, limit: 1000));
        var refused = await cluster.Storage.GetAsync<StorageUsageGrainState>(GrainStates.Usage, StorageUsageGrain.AccountKey("did:key:usage-a"));
        Assert.True(await usage.TryChargeAsync(400, 1, limit: 1000));
        await usage.RefundAsync(5000, 7);

        Assert.Equal(600, charged!.State.Bytes);
        Assert.Equal(charged.Version, refused!.Version);
        Assert.Equal(new StorageUsage(0, 0), await usage.GetAsync());
        var stored = (await cluster.Storage.GetAsync<StorageUsageGrainState>(GrainStates.Usage, StorageUsageGrain.AccountKey("did:key:usage-a")))!.State;
        Assert.Equal((0L, 0), (stored.Bytes, stored.Objects));
    }

    [Fact]
    public async Task OutputNameGrain_ConcurrentCallers_GetDistinctNumbers_ThatContinueAfterDeactivation()
    {
        var names = cluster.Grains.GetGrain<IOutputNameGrain>("did:key:names-a/results");

        var first = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => names.NextAsync()));
        await names.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var next = await names.NextAsync();

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), first.Order());
        Assert.Equal(21, next);
        Assert.Equal(21, (await cluster.Storage.GetAsync<OutputNameGrainState>(GrainStates.OutputName, "did:key:names-a/results"))!.State.Last);
    }

    [Fact]
    public async Task ModuleGrain_FirstUploadWins_BytesAddedLater_AndAWrongKeyIsRefused()
    {
        var hash = new string('a', 64);
        var module = cluster.Grains.GetGrain<IModuleGrain>(hash);
        var info = new ModuleInfo(hash, 10, T0, ["_start"], [], IsWasiCommand: true, BytesInDatabase: false);

        await Assert.ThrowsAsync<ArgumentException>(() => module.RegisterAsync(info with { Hash = new string('b', 64) }, null));
        Assert.Null(await module.GetAsync());
        var first = await module.RegisterAsync(info, null);
        var again = await module.RegisterAsync(info with { Size = 99, UploadedAt = T0.AddDays(1) }, null);
        var withBytes = await module.RegisterAsync(info, [1, 2, 3]);
        var stored = (await cluster.Storage.GetAsync<ModuleGrainState>(GrainStates.Module, hash))!;

        Assert.False(first.BytesInDatabase);
        Assert.Equal(10, again.Size);
        Assert.Equal(T0, again.UploadedAt);
        Assert.True(withBytes.BytesInDatabase);
        Assert.Equal(new byte[] { 1, 2, 3 }, await module.GetBytesAsync());
        Assert.Equal(new byte[] { 1, 2, 3 }, stored.State.Bytes);
        Assert.Equal(10, stored.State.Info!.Size);
        Assert.Equal(2, stored.Version);
    }

    private static NodeRegistration Registration(string nodeId, DateTimeOffset at) =>
        new(nodeId, "silo-a", "http://127.0.0.1:9", "did:key:operator", new NodeResources(2, 1L << 30, 1L << 30, false, 2), new NodePrices(0.01m, 0.1m), at);

    private static ObjectManifest Manifest(string nodeId) =>
        new("ns", "object", 3, "application/octet-stream", new string('0', 64), 1, 1, 4096,
            [new StripeManifest(0, 3, 3, [new ShardPlacement(0, nodeId, ShardId.New(), new string('1', 64)), new ShardPlacement(1, nodeId + "-p", ShardId.New(), new string('2', 64))])],
            T0);
}
