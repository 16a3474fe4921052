using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>A full page of an account's history; see <see cref="IAccountHistoryPageGrain"/>.</summary>
internal sealed class AccountHistoryPageGrain(
    [PersistentState(GrainStates.AccountHistory, GrainStates.Storage)] IPersistentState<AccountHistoryPageState> state)
    : DurableGrain<AccountHistoryPageState>(state), IAccountHistoryPageGrain
{
    public Task SealAsync(IReadOnlyList<LedgerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        State.Entries = [.. entries];
        return Task.CompletedTask;
    }
}
