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

    /// <summary>Whether the delivery reminder is registered (it is whenever <see cref="Outbox"/> may hold credits).</summary>
    public bool DeliveryReminder { get; set; }
}

/// <summary>A sealed page of history (<see cref="GrainStates.AccountHistory"/>).</summary>
public sealed class AccountHistoryPageState
{
    /// <summary>The page's entries, in order.</summary>
    public List<LedgerEntry> Entries { get; set; } = [];
}
