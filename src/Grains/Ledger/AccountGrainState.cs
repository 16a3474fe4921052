using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>An account's stored state (<see cref="GrainStates.Account"/>).</summary>
public sealed class AccountGrainState
{
    /// <summary>Micro-xmbl.c.</summary>
    public long Balance { get; set; }

    /// <summary>The last transfer or mint nonce used.</summary>
    public long LastNonce { get; set; }

    /// <summary>Credits debited here and not yet acknowledged by their receivers, oldest first.</summary>
    public List<TransferCredit> Outbox { get; set; } = [];

    /// <summary>Per sender, the greatest nonce credited here: each sender delivers to one receiver in nonce order.</summary>
    public Dictionary<string, long> Credited { get; set; } = new(StringComparer.Ordinal);

    /// <summary>History entries after the last sealed page.</summary>
    public List<LedgerEntry> Recent { get; set; } = [];

    /// <summary>History entries in all.</summary>
    public long HistoryCount { get; set; }

    /// <summary>Micro-xmbl.c created here (mints and faucet).</summary>
    public long Created { get; set; }

    /// <summary>Start of the current faucet window.</summary>
    public DateTimeOffset FaucetWindowStart { get; set; }

    /// <summary>Micro-xmbl.c from the faucet in the current window.</summary>
    public long FaucetWindowAmount { get; set; }

    /// <summary>Whether the delivery reminder is registered (it is whenever <see cref="Outbox"/> or <see cref="Holds"/> is not empty).</summary>
    public bool DeliveryReminder { get; set; }

    /// <summary>Escrow held for this account's unfinished jobs, by job id.</summary>
    public Dictionary<string, EscrowHold> Holds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The last number given to a job payout sent from here (its own sequence, apart from transfer nonces).</summary>
    public long LastPayout { get; set; }

    /// <summary>Per sender, the greatest payout number credited here.</summary>
    public Dictionary<string, long> CreditedPayouts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The last storage charging period this account took (0 for none); a charge of an earlier or the same period changes nothing.</summary>
    public long StoragePeriod { get; set; }

    /// <summary>Storage charges not paid yet (the balance did not cover them), per payee, in micro-xmbl.c.</summary>
    public Dictionary<string, long> StorageOwed { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One job's hold.</summary>
/// <param name="Amount">Micro-xmbl.c.</param>
/// <param name="At">When it was made.</param>
public sealed record EscrowHold(long Amount, DateTimeOffset At);

/// <summary>A sealed page of history (<see cref="GrainStates.AccountHistory"/>).</summary>
public sealed class AccountHistoryPageState
{
    /// <summary>The page's entries, in order.</summary>
    public List<LedgerEntry> Entries { get; set; } = [];
}
