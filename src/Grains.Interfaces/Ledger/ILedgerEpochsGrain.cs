namespace Xmbl.Cluster.Grains.Interfaces.Ledger;

/// <summary>
/// The ledger's epochs (one grain, key <see cref="Key"/>): at every interval it reads every account's stored balance,
/// builds the Merkle tree over them and seals its root as the next epoch.
/// </summary>
[Alias("xmbl.ILedgerEpochsGrain")]
public interface ILedgerEpochsGrain : IGrainWithStringKey
{
    /// <summary>The grain's key.</summary>
    public const string Key = "ledger";

    /// <summary>Registers the reminder that seals epochs (idempotent; every silo asks at start).</summary>
    Task StartAsync();

    /// <summary>Seals the next epoch when the interval has passed since the last one (what the reminder does).</summary>
    /// <returns>The epoch sealed, or null when none was due.</returns>
    Task<LedgerEpoch?> SealIfDueAsync();

    /// <summary>Seals the next epoch now.</summary>
    Task<LedgerEpoch> SealAsync();

    /// <summary>The last sealed epoch, or null before the first.</summary>
    [ReadOnly]
    Task<LedgerEpoch?> LatestAsync();
}

/// <summary>One epoch's stored record (<c>ledger-epoch</c>, key the number as 12 digits) and its leaves.</summary>
[Alias("xmbl.ILedgerEpochGrain")]
public interface ILedgerEpochGrain : IGrainWithStringKey
{
    /// <summary>Stores the epoch and the balances its root is over (sealing the same number again replaces them).</summary>
    Task StoreAsync(LedgerEpoch epoch, IReadOnlyList<EpochBalance> balances);
}

/// <summary>A sealed epoch.</summary>
/// <param name="Number">1, 2, …</param>
/// <param name="Root">The Merkle root over every account's balance, lower-case hex (see src/Ledger/BalanceTree.cs).</param>
/// <param name="Accounts">The accounts (leaves) in the tree.</param>
/// <param name="Total">The sum of the balances in the tree, micro-xmbl.c.</param>
/// <param name="SealedAt">When it was sealed.</param>
[GenerateSerializer, Immutable, Alias("xmbl.LedgerEpoch")]
public sealed record LedgerEpoch(long Number, string Root, long Accounts, long Total, DateTimeOffset SealedAt);

/// <summary>One leaf of an epoch: an account's balance as stored when the epoch was sealed.</summary>
/// <param name="Account">The account.</param>
/// <param name="Balance">Micro-xmbl.c.</param>
[GenerateSerializer, Immutable, Alias("xmbl.EpochBalance")]
public sealed record EpochBalance(string Account, long Balance);
