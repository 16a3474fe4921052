namespace Xmbl.Cluster.Grains.Interfaces.Ledger;

/// <summary>
/// A full page of an account's history, keyed <c>{account}/{page:D12}</c> (page 0 holds entries 1-100): the account
/// keeps its latest entries in its own state and moves each full page here, so its state stays small.
/// </summary>
[Alias("xmbl.IAccountHistoryPageGrain")]
public interface IAccountHistoryPageGrain : IGrainWithStringKey
{
    /// <summary>Stores the page's entries; sealing the same page again writes the same entries.</summary>
    Task SealAsync(IReadOnlyList<LedgerEntry> entries);
}
