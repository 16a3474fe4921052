namespace Xmbl.Cluster.Grains.Interfaces.Ledger;

/// <summary>
/// An account of the xmbl.c ledger, keyed by its did:key: an integer balance in micro-xmbl.c, the last transfer nonce
/// it used, its outgoing credits not yet acknowledged, and its history.
/// </summary>
/// <remarks>
/// A transfer debits the sender and records the credit it owes in one durable write; the sender then delivers the credit
/// to the receiver, retried (by a reminder) until acknowledged. The receiver credits each (sender, nonce) once, so a
/// redelivery is acknowledged without a second credit. Credits interleave with the receiver's own transfer, so that
/// two accounts paying each other at once do not wait on each other.
/// </remarks>
[Alias("xmbl.IAccountGrain")]
public interface IAccountGrain : IGrainWithStringKey
{
    /// <summary>Moves <see cref="TransferOrder.Amount"/> from this account to another, once per nonce.</summary>
    Task<LedgerOutcome> TransferAsync(TransferOrder order);

    /// <summary>Credits a transfer from another account; a credit already taken is acknowledged and changes nothing.</summary>
    [AlwaysInterleave]
    Task CreditAsync(TransferCredit credit);

    /// <summary>Creates credits in this account (the treasury's; the caller checks who may), once per nonce.</summary>
    Task<LedgerOutcome> MintAsync(long amount, long nonce, DateTimeOffset at);

    /// <summary>Creates credits in this account from the faucet, within <paramref name="limits"/>.</summary>
    Task<LedgerOutcome> FaucetAsync(long amount, FaucetLimits limits, DateTimeOffset at);

    /// <summary>Holds <paramref name="amount"/> in escrow for a job (once per job: a second hold for it changes nothing).</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="amount">Micro-xmbl.c, at least 0.</param>
    /// <param name="at">When it was submitted.</param>
    /// <returns><see cref="LedgerRefusal.InsufficientFunds"/> with the balance when it is short; nothing is held then.</returns>
    Task<LedgerOutcome> HoldAsync(string jobId, long amount, DateTimeOffset at);

    /// <summary>
    /// Ends a job's hold: pays each payout (delivered like transfer credits, exactly once) and returns the rest to the
    /// balance, in one write. Once per job: when no hold is left it changes nothing.
    /// </summary>
    Task<EscrowOutcome> SettleHoldAsync(EscrowSettlement settlement);

    /// <summary>
    /// Takes one period's storage charge (once per period: a period not after the last one taken changes nothing). The
    /// charge is added to what the account owes for storage; when the balance covers all of it, it is paid in the same
    /// write (each payee's part delivered like a transfer credit), else it stays owed and nothing moves.
    /// </summary>
    Task<StorageChargeOutcome> ChargeStorageAsync(StorageCharge charge);

    /// <summary>Pays what the account owes for storage when the balance covers it all; returns the account after.</summary>
    Task<AccountSnapshot> PayStorageOwedAsync(DateTimeOffset at);

    /// <summary>Delivers credits this account still owes (after a crash or an unreachable receiver); true when none is left.</summary>
    Task<bool> DeliverPendingAsync();

    /// <summary>The account's balance and counters.</summary>
    [ReadOnly, AlwaysInterleave]
    Task<AccountSnapshot> GetAsync();
}
