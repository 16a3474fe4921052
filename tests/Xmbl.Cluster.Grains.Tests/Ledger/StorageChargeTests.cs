using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Ledger;

/// <summary>Storage charged per GB-month from object manifests at each node's price (docs/ledger.md, "Storage charges").</summary>
public sealed class StorageChargeTests
{
    private const long Xmbl = 1_000_000;
    private const int Gb = 1_000_000_000;
    private static readonly Dictionary<string, string?> Settings = new() { ["Xmbl:Ledger:Storage:Enabled"] = "true", ["Xmbl:Ledger:Storage:Interval"] = "12:00:00" };

    [Fact]
    public async Task EachPayeeIsPaidItsNodesShardBytes_ProratedFromCreationOrTheLastCharge_RoundedDownOnce()
    {
        var time = new ManualTimeProvider();
        await using var silo = await LedgerSilo.StartAsync(Settings, time);
        var (owner, operatorA, operatorB) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        var nodeA = await RegisterNodeAsync(silo, operatorA, 0.5m);
        var nodeB = await RegisterNodeAsync(silo, operatorB, 0.25m);
        var ownNode = await RegisterNodeAsync(silo, owner, 0.5m);
        var retired = await RegisterNodeAsync(silo, operatorA, 0.5m);
        await silo.Grain<INodeGrain>(retired).RetireAsync(time.GetUtcNow());
        await silo.Ledger.FaucetAsync(owner, 100 * Xmbl);
        var charges = silo.Grain<IStorageChargesGrain>(IStorageChargesGrain.Key);
        await charges.StartAsync(enabled: true);
        var start = time.GetUtcNow();

        // 0.6 GB shards stored since before charging began (charged from its start), on A, B, the owner's own node and a retired node.
        await CommitAsync(silo, owner, "x", start - TimeSpan.FromDays(1), 600_000_000, nodeA, nodeB, ownNode, retired);
        time.Advance(TimeSpan.FromHours(6));
        // Two 0.3 GB shards on A, stored for the second half of the period; 7 bytes on B, whose charge rounds away.
        await CommitAsync(silo, owner, "y", time.GetUtcNow(), 300_000_000, nodeA, nodeA);
        await CommitAsync(silo, owner, "z", time.GetUtcNow(), 7, nodeB);
        time.Advance(TimeSpan.FromHours(5));
        Assert.Null(await charges.ChargeIfDueAsync());
        time.Advance(TimeSpan.FromHours(1));

        var period = await charges.ChargeIfDueAsync();

        // A: 0.6 GB × 12 h × 0.5 / 720 h + 0.6 GB × 6 h × 0.5 / 720 h = 5,000 + 2,500; B: 0.6 GB × 12 h × 0.25 / 720 h = 2,500 (+ 7 bytes: 0.0000000243 micro).
        Assert.Equal(new StoragePeriod(1, start, start + TimeSpan.FromHours(12), 1, 10_000), period);
        await AssertBalancesAsync(silo, (owner, (100 * Xmbl) - 10_000), (operatorA, 7_500), (operatorB, 2_500));
        var history = await HistoryAsync(silo, owner);
        // One payment per payee, in payee order.
        Assert.Equal(
            new[] { (LedgerEntryKind.StoragePayment, -7_500L, operatorA), (LedgerEntryKind.StoragePayment, -2_500L, operatorB) }.OrderBy(e => e.Item3, StringComparer.Ordinal),
            history.Skip(1).Select(e => (e.Kind, e.Amount, e.Counterparty!)));
        Assert.Equal((LedgerEntryKind.StorageIncome, 7_500L, owner), (await HistoryAsync(silo, operatorA)).Select(e => (e.Kind, e.Amount, e.Counterparty!)).Single());

        // The next period charges everything for its whole length, from where the last one ended.
        time.Advance(TimeSpan.FromHours(12));
        var second = await charges.ChargeIfDueAsync();

        Assert.Equal(new StoragePeriod(2, start + TimeSpan.FromHours(12), start + TimeSpan.FromHours(24), 1, 12_500), second);
        await AssertBalancesAsync(silo, (owner, (100 * Xmbl) - 22_500), (operatorA, 17_500), (operatorB, 5_000));
        Assert.Null(await charges.ChargeIfDueAsync());
    }

    [Fact]
    public async Task APassCutShortByACrash_ChargesEachOwnerOnceForThePeriod_AfterTheSiloRestarts()
    {
        var time = new ManualTimeProvider();
        var cut = new CutAfterFirstOwner();
        await using var silo = await LedgerSilo.StartAsync(Settings, time, services => services.AddSingleton<IStorageChargeSender>(sp => cut.Over(sp.GetRequiredService<IGrainFactory>())));
        var (first, second, payee) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        var owners = new[] { first, second }.Order(StringComparer.Ordinal).ToArray();
        var node = await RegisterNodeAsync(silo, payee, 1m);
        foreach (var owner in owners)
        {
            await silo.Ledger.FaucetAsync(owner, 10 * Xmbl);
        }

        var charges = silo.Grain<IStorageChargesGrain>(IStorageChargesGrain.Key);
        await charges.StartAsync(enabled: true);
        await CommitAsync(silo, owners[0], "a", time.GetUtcNow(), Gb, node);
        await CommitAsync(silo, owners[1], "b", time.GetUtcNow(), Gb / 2, node);
        time.Advance(TimeSpan.FromHours(12));

        // 1 GB × 12 h × 1 xmbl.c / 720 h = 16,666.67 → 16,666 micro; 0.5 GB → 8,333.33 → 8,333.
        await Assert.ThrowsAsync<InvalidOperationException>(charges.ChargeIfDueAsync);
        await AssertBalancesAsync(silo, (owners[0], (10 * Xmbl) - 16_666), (owners[1], 10 * Xmbl), (payee, 16_666));
        cut.Enabled = false;
        await silo.RestartAsync();
        charges = silo.Grain<IStorageChargesGrain>(IStorageChargesGrain.Key);

        var period = await charges.ChargeIfDueAsync();

        Assert.Equal(1, period!.Number);
        Assert.Equal(2, period.Owners);
        await AssertBalancesAsync(silo, (owners[0], (10 * Xmbl) - 16_666), (owners[1], (10 * Xmbl) - 8_333), (payee, 24_999));
        Assert.Single(await HistoryAsync(silo, owners[0]), e => e.Kind == LedgerEntryKind.StoragePayment);
        Assert.Null(await charges.ChargeIfDueAsync());
        Assert.Equal(20 * Xmbl, await SupplyAsync(silo, owners[0], owners[1], payee));
    }

    [Fact]
    public async Task AnOwnerShortOfFunds_OwesTheCharge_IsRefusedNewPuts_AndPaysEverythingOwedOnceFunded()
    {
        var time = new ManualTimeProvider();
        await using var silo = await LedgerSilo.StartAsync(Settings, time);
        var (owner, payee) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        var node = await RegisterNodeAsync(silo, payee, 1m);
        await silo.Ledger.FaucetAsync(owner, 10_000);
        var charges = silo.Grain<IStorageChargesGrain>(IStorageChargesGrain.Key);
        await charges.StartAsync(enabled: true);
        await CommitAsync(silo, owner, "a", time.GetUtcNow(), Gb, node);
        time.Advance(TimeSpan.FromHours(12));

        await charges.ChargeAsync();

        // Nothing moves: the charge is owed, and the object stays.
        var account = await silo.Ledger.GetAsync(owner);
        Assert.Equal((10_000L, 16_666L, 1L), (account.Balance, account.StorageOwed, account.HistoryCount));
        Assert.Equal(0, (await silo.Ledger.GetAsync(payee)).Balance);
        var objects = silo.Services.GetRequiredService<ObjectService>();
        Assert.NotNull(await objects.GetAsync(Key("a")));
        var refused = await Assert.ThrowsAsync<StorageOwedException>(() => objects.PutAsync(Key("more"), new ObjectWriteOptions(owner, "text/plain"), 1, new MemoryStream([1]), CancellationToken.None));
        Assert.Equal(16_666, refused.Account.StorageOwed);

        // Still short at the next period: both periods are owed.
        time.Advance(TimeSpan.FromHours(12));
        await charges.ChargeAsync();
        Assert.Equal(33_332, (await silo.Ledger.GetAsync(owner)).StorageOwed);

        await silo.Ledger.FaucetAsync(owner, Xmbl);
        var paid = await silo.Account(owner).PayStorageOwedAsync(time.GetUtcNow());

        Assert.Equal((10_000 + Xmbl - 33_332, 0L), (paid.Balance, paid.StorageOwed));
        Assert.Equal(33_332, (await silo.Ledger.GetAsync(payee)).Balance);
        Assert.Equal(10_000 + Xmbl, await SupplyAsync(silo, owner, payee));
    }

    [Fact]
    public async Task AChargeTakenOnce_ChangesNothingWhenSentAgain()
    {
        await using var silo = await LedgerSilo.StartAsync();
        var (owner, payee) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        await silo.Ledger.FaucetAsync(owner, Xmbl);
        var at = DateTimeOffset.UtcNow;
        var charge = new StorageCharge(3, at - TimeSpan.FromHours(1), at, [new StorageChargeLine(payee, 1_234, Gb)]);

        var once = await silo.Account(owner).ChargeStorageAsync(charge);
        var again = await silo.Account(owner).ChargeStorageAsync(charge);
        var earlier = await silo.Account(owner).ChargeStorageAsync(charge with { Period = 2 });

        Assert.Equal((false, 1_234L, 0L), (once.AlreadyCharged, once.Paid, once.Owed));
        Assert.True(again.AlreadyCharged);
        Assert.True(earlier.AlreadyCharged);
        await AssertBalancesAsync(silo, (owner, Xmbl - 1_234), (payee, 1_234));
    }

    private static async Task<string> RegisterNodeAsync(LedgerSilo silo, string operatorDid, decimal perGbMonth)
    {
        var id = LedgerSilo.NewAccount();
        var now = silo.Services.GetRequiredKeyedService<TimeProvider>(ClusterClock.Key).GetUtcNow();
        await silo.Grain<INodeGrain>(id).RegisterAsync(new NodeRegistration(id, "silo-x", "http://127.0.0.1:9", operatorDid, new NodeResources(1, Gb, 100L * Gb, false, 1), new NodePrices(0.01m, perGbMonth), now));
        return id;
    }

    /// <summary>Commits an object of one stripe whose shards of <paramref name="shardLength"/> bytes are on <paramref name="nodes"/>.</summary>
    private static Task CommitAsync(LedgerSilo silo, string owner, string name, DateTimeOffset created, int shardLength, params string[] nodes)
    {
        var shards = nodes.Select((n, i) => new ShardPlacement(i, n, ShardId.New(), new string('0', 64))).ToArray();
        var manifest = new ObjectManifest("files", name, shardLength, "application/octet-stream", new string('0', 64), 1, nodes.Length - 1, shardLength, [new StripeManifest(0, shardLength, shardLength, shards)], created);
        return silo.Grain<IObjectGrain>(Key(name).GrainKey).CommitAsync(new StoredObject(Guid.NewGuid().ToString("N"), owner, manifest));
    }

    private static ObjectKey Key(string name) =>
        ObjectKey.TryCreate("files", name, out var key, out var error) ? key : throw new ArgumentException(error, nameof(name));

    private static async Task AssertBalancesAsync(LedgerSilo silo, params (string Account, long Balance)[] expected)
    {
        foreach (var (account, balance) in expected)
        {
            Assert.True(await silo.Account(account).DeliverPendingAsync());
            Assert.Equal(balance, (await silo.Ledger.GetAsync(account)).Balance);
        }
    }

    private static async Task<long> SupplyAsync(LedgerSilo silo, params string[] accounts)
    {
        long total = 0;
        foreach (var account in accounts)
        {
            var snapshot = await silo.Ledger.GetAsync(account);
            total += snapshot.Balance + snapshot.PendingOut + snapshot.Held;
        }

        return total;
    }

    private static async Task<IReadOnlyList<LedgerEntry>> HistoryAsync(LedgerSilo silo, string account) =>
        (await silo.Ledger.HistoryAsync(account, 0, 100)).Items;

    /// <summary>Charges the first owner of a pass, then fails, as a silo dying mid-pass would leave it.</summary>
    private sealed class CutAfterFirstOwner
    {
        private int _sent;

        public bool Enabled { get; set; } = true;

        public IStorageChargeSender Over(IGrainFactory grains) => new Sender(this, grains);

        private sealed class Sender(CutAfterFirstOwner cut, IGrainFactory grains) : IStorageChargeSender
        {
            public Task<StorageChargeOutcome> SendAsync(string owner, StorageCharge charge) =>
                cut.Enabled && Interlocked.Increment(ref cut._sent) > 1
                    ? throw new InvalidOperationException("The silo died mid-pass.")
                    : grains.GetGrain<IAccountGrain>(owner).ChargeStorageAsync(charge);
        }
    }
}
