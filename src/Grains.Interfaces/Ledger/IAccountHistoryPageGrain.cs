namespace Xmbl.Cluster.Grains.Interfaces.Ledger;

/// <summary>
/// A page of an account's history, keyed <c>{account}/{page:D12}</c> (page 0 holds entries 1-100): the account
/// keeps its latest entries in its own state and moves them here in chunks, oldest first, so its state stays small.
/// </summary>
[Alias("xmbl.IAccountHistoryPageGrain")]
public interface IAccountHistoryPageGrain : IGrainWithStringKey
{
    /// <summary>Adds the next entries of the page, in order; entries it holds already are ignored (a move repeated after a crash).</summary>
    Task SealAsync(IReadOnlyList<LedgerEntry> entries);
}
