using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>Escrow in the submitter's account grain: a held amount, settled by one idempotent call per job.</summary>
public sealed class LedgerSettlement(IGrainFactory grains) : IJobSettlement
{
    /// <inheritdoc/>
    public Task<LedgerOutcome> HoldAsync(string account, string jobId, long amount, DateTimeOffset at) =>
        grains.GetGrain<IAccountGrain>(account).HoldAsync(jobId, amount, at);

    /// <inheritdoc/>
    public Task<EscrowOutcome> SettleAsync(string account, EscrowSettlement settlement) =>
        grains.GetGrain<IAccountGrain>(account).SettleHoldAsync(settlement);
}
