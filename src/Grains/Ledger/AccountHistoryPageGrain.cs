using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>A page of an account's history; see <see cref="IAccountHistoryPageGrain"/>.</summary>
internal sealed class AccountHistoryPageGrain(
    [PersistentState(GrainStates.AccountHistory, GrainStates.Storage)] IPersistentState<AccountHistoryPageState> state)
    : DurableGrain<AccountHistoryPageState>(state), IAccountHistoryPageGrain
{
    public Task SealAsync(IReadOnlyList<LedgerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var last = State.Entries.Count > 0 ? State.Entries[^1].Seq : long.MinValue;
        foreach (var entry in entries)
        {
            if (entry.Seq > last)
            {
                State.Entries.Add(entry);
                last = entry.Seq;
            }
        }

        return Task.CompletedTask;
    }
}
