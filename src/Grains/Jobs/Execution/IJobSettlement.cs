using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>The job's escrow on the ledger: the hold at submission and its settlement once the job is final.</summary>
/// <remarks>Both calls are idempotent per job, so the job grain may repeat them after any failure.</remarks>
public interface IJobSettlement
{
    /// <summary>Holds <paramref name="amount"/> from <paramref name="account"/> for the job.</summary>
    /// <returns>Done, or <see cref="LedgerRefusal.InsufficientFunds"/> with the account as it stands.</returns>
    Task<LedgerOutcome> HoldAsync(string account, string jobId, long amount, DateTimeOffset at);

    /// <summary>Pays the payouts from the job's hold on <paramref name="account"/> and refunds the rest.</summary>
    Task<EscrowOutcome> SettleAsync(string account, EscrowSettlement settlement);
}
