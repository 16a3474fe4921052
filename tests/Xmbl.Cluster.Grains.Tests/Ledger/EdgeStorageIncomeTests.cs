using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Tests.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Ledger;

/// <summary>
/// An edge node holding shards is paid for them like a silo node (docs/ledger.md): registered by <see cref="EdgeNodes"/>
/// with its did as operator, placed on by the object writer, charged for by the storage period. Only the libp2p
/// transport is replaced: its shard store is a local one under its id in the silo's shard node registry, where the
/// bridge puts its <c>EdgeShardStore</c>.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class EdgeStorageIncomeTests
{
    private const decimal EdgePricePerGbMonth = 1000m;

    [Fact]
    public async Task AnEdgeNodeHoldingShards_IsPaidStorageIncomeForThem_WhenAChargingPeriodEnds()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var data = new TempDirectory("xmbl-edge-income");
        var settings = new Dictionary<string, string?>
        {
            ["Xmbl:Ledger:Storage:Enabled"] = "true",
            ["Xmbl:Ledger:Storage:Interval"] = "12:00:00",
            // The clock moves by hours; the nodes must stay alive meanwhile.
            ["Xmbl:Node:DeathTimeout"] = "2.00:00:00",
        };
        var host = await InProcessSilo.StartAsync(
            data.Path,
            new Dictionary<string, string?> { ["Xmbl:Node:Count"] = "4" },
            settings,
            clock,
            (builder, silo) =>
            {
                builder.Services.AddCompute(builder.Configuration, silo);
                builder.Services.AddLedger(builder.Configuration, silo);
            });
        using var edgeStore = new LocalShardStore([new StorageVolumeOptions { Name = "edge", Path = Path.Combine(data.Path, "edge-peer") }], Path.Combine(data.Path, "edge-peer.db"), clock);
        try
        {
            var services = host.Services;
            var grains = services.GetRequiredService<IGrainFactory>();
            var ledger = services.GetRequiredService<LedgerService>();
            var owner = LedgerSilo.NewAccount();
            await grains.GetGrain<IAccountGrain>(owner).MintAsync(1_000_000_000, 1, clock.GetUtcNow());
            var edge = LedgerSilo.NewAccount();
            services.GetRequiredService<ShardNodeRegistry>().Set(edge, edgeStore);
            var info = await services.GetRequiredService<EdgeNodes>().AttachAsync(
                edge, "/ip4/127.0.0.1/tcp/1/p2p/test", new NodeResources(2, 1L << 30, 1L << 30, false, 2), new NodePrices(0.01m, EdgePricePerGbMonth), new SilentLink());
            var charges = grains.GetGrain<IStorageChargesGrain>(IStorageChargesGrain.Key);
            await charges.StartAsync(enabled: true);

            // Four silo nodes and the edge node, 3 + 2 shards: the edge node holds one shard of the stripe.
            var stored = await services.GetRequiredService<ObjectService>().PutAsync(
                ObjectServiceTestExtensions.Key("edge", "paid.bin"),
                new ObjectWriteOptions(owner, "application/octet-stream"),
                30_000,
                new MemoryStream(ObjectServiceTestExtensions.TestBytes(30_000)),
                default);
            var held = Assert.Single(stored.Manifest.AllShards, p => p.NodeId == edge);
            clock.Advance(TimeSpan.FromHours(12));
            var period = await charges.ChargeIfDueAsync();
            Assert.True(await grains.GetGrain<IAccountGrain>(owner).DeliverPendingAsync());
            var account = await ledger.GetAsync(edge);
            var history = (await ledger.HistoryAsync(edge, 0, 100)).Items;

            // 10,000 bytes × 12 h × 1,000 xmbl.c per GB-month / 720 h = 166.67 → 166 micro-xmbl.c.
            const long Expected = 166;
            Assert.True(info.Edge);
            Assert.Equal(edge, info.Operator);
            Assert.Equal(10_000, Assert.Single(stored.Manifest.Stripes).ShardLength);
            Assert.NotNull(await edgeStore.GetInfoAsync(held.ShardId));
            Assert.NotNull(period);
            Assert.Equal(Expected, account.Balance);
            var income = Assert.Single(history);
            Assert.Equal((LedgerEntryKind.StorageIncome, Expected, owner), (income.Kind, income.Amount, income.Counterparty));
            Assert.Contains((await ledger.HistoryAsync(owner, 0, 100)).Items, e => e.Kind == LedgerEntryKind.StoragePayment && e.Counterparty == edge && e.Amount == -Expected);
        }
        finally
        {
            await InProcessSilo.StopAsync(host);
        }
    }

    private sealed class SilentLink : IEdgeNodeLink
    {
        public void Assign(JobDispatch dispatch)
        {
        }

        public void Cancel(string jobId)
        {
        }
    }
}
