using System.Text.Json.Serialization;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Gateway.Network;

/// <summary>Objects as the feed shows them: those in namespaces anyone may list, in key order.</summary>
/// <param name="Items">The objects.</param>
/// <param name="Truncated">More objects exist than <see cref="NetworkFeedOptions.MaxObjects"/> or were read.</param>
/// <param name="ShardsOnDeadNodes">Shards, over the listed objects, whose node is not alive (what a repair pass rebuilds).</param>
internal sealed record NetworkObjectsView(IReadOnlyList<NetworkObjectView> Items, bool Truncated, long ShardsOnDeadNodes);

/// <summary>One object with its shard health: a shard counts healthy while its node is alive (the scrub that also reads bytes runs on <c>?health</c> and in repair passes).</summary>
/// <param name="Namespace">Its namespace.</param>
/// <param name="Name">Its name.</param>
/// <param name="Size">Bytes.</param>
/// <param name="ContentType">Media type.</param>
/// <param name="Sha256">SHA-256 of its bytes.</param>
/// <param name="Owner">The account that stored it.</param>
/// <param name="Created">When it was stored.</param>
/// <param name="DataShards">k.</param>
/// <param name="ParityShards">m.</param>
/// <param name="Stripes">Number of stripes.</param>
/// <param name="HealthyShards">Shards on live nodes.</param>
/// <param name="TotalShards">Shards in all.</param>
/// <param name="Readable">Every stripe has at least k healthy shards.</param>
/// <param name="StripeHealth">Healthy shards per stripe, for the first <see cref="ClusterNetworkSource.MaxStripesShown"/> stripes.</param>
internal sealed record NetworkObjectView(
    string Namespace,
    string Name,
    long Size,
    string ContentType,
    string Sha256,
    string Owner,
    DateTimeOffset Created,
    int DataShards,
    int ParityShards,
    int Stripes,
    long HealthyShards,
    long TotalShards,
    bool Readable,
    IReadOnlyList<int> StripeHealth);

/// <summary>Repair passes as the serving silo sees them.</summary>
/// <param name="Available">False on a standalone gateway, which runs no passes.</param>
/// <param name="Running">A pass is running on this silo now.</param>
/// <param name="Last">The last pass on this silo, or null before the first.</param>
internal sealed record NetworkRepairView(bool Available, bool Running, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] RepairPassResult? Last);

/// <summary>The ledger's totals and largest accounts, in micro-xmbl.c (and as xmbl.c text).</summary>
/// <param name="Available">False where the host has no ledger.</param>
/// <param name="Supply">Everything created (mints and faucet).</param>
/// <param name="SupplyXmblC">The same in xmbl.c.</param>
/// <param name="Balances">The sum of balances.</param>
/// <param name="InFlight">Credits debited and not yet delivered to their receivers (supply = balances + in flight).</param>
/// <param name="AccountCount">Accounts read.</param>
/// <param name="Accounts">The largest balances first.</param>
/// <param name="Truncated">More accounts exist than were read.</param>
/// <param name="EpochsPath">Where this gateway lists the ledger's epoch roots, or null when it serves no such route.</param>
internal sealed record NetworkLedgerView(bool Available, long Supply, string SupplyXmblC, long Balances, long InFlight, int AccountCount, IReadOnlyList<NetworkAccountView> Accounts, bool Truncated, string? EpochsPath = null);

/// <summary>One account in the feed.</summary>
/// <param name="Id">Its did:key.</param>
/// <param name="Balance">Micro-xmbl.c.</param>
/// <param name="BalanceXmblC">The same in xmbl.c.</param>
/// <param name="PendingOut">Debited, not yet acknowledged by receivers.</param>
/// <param name="HistoryCount">Entries in its history.</param>
internal sealed record NetworkAccountView(string Id, long Balance, string BalanceXmblC, long PendingOut, long HistoryCount);
