namespace Xmbl.Cluster.Grains.Interfaces.Ledger;

/// <summary>A signed transfer as the ledger executes it.</summary>
/// <param name="To">The receiving account (did:key).</param>
/// <param name="Amount">Micro-xmbl.c, more than 0.</param>
/// <param name="Nonce">Greater than every nonce this account used before.</param>
/// <param name="At">When the gateway accepted it.</param>
[GenerateSerializer, Immutable, Alias("xmbl.TransferOrder")]
public sealed record TransferOrder(string To, long Amount, long Nonce, DateTimeOffset At);

/// <summary>A credit the sender delivers to the receiver.</summary>
/// <param name="TransferId">The transfer (<c>{sender}/{nonce}</c>).</param>
/// <param name="From">The sender.</param>
/// <param name="To">The receiver.</param>
/// <param name="Nonce">The sender's nonce: the receiver credits each sender's nonces once.</param>
/// <param name="Amount">Micro-xmbl.c.</param>
/// <param name="At">When the transfer was accepted.</param>
/// <param name="Kind"><see cref="LedgerEntryKind.TransferIn"/>, or <see cref="LedgerEntryKind.JobIncome"/> for a job's
/// payout from escrow (numbered by the sender's own payout counter, so it never takes one of the sender's transfer nonces).</param>
[GenerateSerializer, Immutable, Alias("xmbl.TransferCredit")]
public sealed record TransferCredit(string TransferId, string From, string To, long Nonce, long Amount, DateTimeOffset At, LedgerEntryKind Kind = LedgerEntryKind.TransferIn);

/// <summary>A payment from a job's escrow.</summary>
/// <param name="Payee">The account paid (the node operator's did:key, else the node's own).</param>
/// <param name="Amount">Micro-xmbl.c, more than 0.</param>
/// <param name="NodeId">The node whose run is paid.</param>
/// <param name="AssignmentId">The assignment paid.</param>
[GenerateSerializer, Immutable, Alias("xmbl.EscrowPayout")]
public sealed record EscrowPayout(string Payee, long Amount, string NodeId, int AssignmentId);

/// <summary>How a job's escrow ends: the payouts, and the rest of the hold back to the submitter.</summary>
/// <param name="JobId">The job whose hold is settled.</param>
/// <param name="Payouts">What is paid to whom; their sum is at most the hold.</param>
/// <param name="At">When the job settled.</param>
[GenerateSerializer, Immutable, Alias("xmbl.EscrowSettlement")]
public sealed record EscrowSettlement(string JobId, IReadOnlyList<EscrowPayout> Payouts, DateTimeOffset At);

/// <summary>What settling a hold did.</summary>
/// <param name="Held">The hold that was settled (0 when there was none: settled before, or never held).</param>
/// <param name="Paid">Micro-xmbl.c paid out.</param>
/// <param name="Refunded">Micro-xmbl.c back to the submitter's balance.</param>
/// <param name="AlreadySettled">True when no hold was left for the job (a repeated settlement changes nothing).</param>
[GenerateSerializer, Immutable, Alias("xmbl.EscrowOutcome")]
public sealed record EscrowOutcome(long Held, long Paid, long Refunded, bool AlreadySettled);

/// <summary>One period's storage charge of an account (the owner of the objects), per payee.</summary>
/// <param name="Period">The charging period's number (1, 2, …): an account takes each period once.</param>
/// <param name="From">The period's start.</param>
/// <param name="To">The period's end (when its charges were computed).</param>
/// <param name="Lines">What each payee is owed for the period, each at least 1.</param>
[GenerateSerializer, Immutable, Alias("xmbl.StorageCharge")]
public sealed record StorageCharge(long Period, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<StorageChargeLine> Lines);

/// <summary>What one payee is owed for one period.</summary>
/// <param name="Payee">The account paid: the node operator's did:key, else the node's own.</param>
/// <param name="Amount">Micro-xmbl.c, at least 1.</param>
/// <param name="Bytes">The shard bytes of the owner's objects the payee's nodes held at the period's end.</param>
[GenerateSerializer, Immutable, Alias("xmbl.StorageChargeLine")]
public sealed record StorageChargeLine(string Payee, long Amount, long Bytes);

/// <summary>What a storage charge did.</summary>
/// <param name="AlreadyCharged">True when the account had taken this period before (nothing changed).</param>
/// <param name="Paid">Micro-xmbl.c paid now (this period's charge and what was owed before, when the balance covers them).</param>
/// <param name="Owed">Micro-xmbl.c still owed after it (0 when everything was paid).</param>
/// <param name="Account">The account after it.</param>
[GenerateSerializer, Immutable, Alias("xmbl.StorageChargeOutcome")]
public sealed record StorageChargeOutcome(bool AlreadyCharged, long Paid, long Owed, AccountSnapshot Account);

/// <summary>The faucet's limits, in micro-xmbl.c.</summary>
/// <param name="MaxPerRequest">The most one request gets.</param>
/// <param name="MaxPerWindow">The most one account gets per <paramref name="Window"/>.</param>
/// <param name="Window">The window, counted from the account's first faucet request in it.</param>
[GenerateSerializer, Immutable, Alias("xmbl.FaucetLimits")]
public sealed record FaucetLimits(long MaxPerRequest, long MaxPerWindow, TimeSpan Window);

/// <summary>Why the ledger refused an operation (nothing changed), or <see cref="Done"/>.</summary>
public enum LedgerRefusal
{
    /// <summary>Not refused.</summary>
    Done = 0,

    /// <summary>The balance is lower than the amount.</summary>
    InsufficientFunds,

    /// <summary>The nonce is not greater than the last one used (a replay or a reused nonce).</summary>
    NonceUsed,

    /// <summary>The faucet's per-request or per-window limit.</summary>
    FaucetLimit,

    /// <summary>The balance would pass the largest representable amount.</summary>
    Overflow,
}

/// <summary>What an operation on an account did.</summary>
/// <param name="Refusal">Why nothing was done, or <see cref="LedgerRefusal.Done"/>.</param>
/// <param name="Account">The account after the operation (or as it stands, when refused).</param>
/// <param name="TransferId">The transfer's id, when one was made.</param>
/// <param name="Delivered">Whether the receiver has the credit already (else it is delivered by retries).</param>
/// <param name="RetryAfter">For a faucet refusal on the window: when the account may ask again.</param>
[GenerateSerializer, Immutable, Alias("xmbl.LedgerOutcome")]
public sealed record LedgerOutcome(LedgerRefusal Refusal, AccountSnapshot Account, string? TransferId = null, bool Delivered = false, DateTimeOffset? RetryAfter = null);

/// <summary>An account's balance and counters.</summary>
/// <param name="Account">The did:key.</param>
/// <param name="Balance">Micro-xmbl.c.</param>
/// <param name="LastNonce">The last transfer or mint nonce used (0 for none); the next must be greater.</param>
/// <param name="HistoryCount">Entries in the history.</param>
/// <param name="PendingOut">Micro-xmbl.c debited but not yet acknowledged by receivers.</param>
/// <param name="Held">Micro-xmbl.c held in escrow for the account's unfinished jobs (not in <paramref name="Balance"/>).</param>
/// <param name="Holds">Jobs with a hold.</param>
/// <param name="StorageOwed">Micro-xmbl.c of storage charges the balance could not cover (new puts are refused while any is owed).</param>
[GenerateSerializer, Immutable, Alias("xmbl.AccountSnapshot")]
public sealed record AccountSnapshot(string Account, long Balance, long LastNonce, long HistoryCount, long PendingOut, long Held = 0, int Holds = 0, long StorageOwed = 0);

/// <summary>What a history entry records.</summary>
public enum LedgerEntryKind
{
    /// <summary>A transfer sent (amount negative).</summary>
    TransferOut = 1,

    /// <summary>A transfer received.</summary>
    TransferIn = 2,

    /// <summary>Credits minted by the treasury.</summary>
    Mint = 3,

    /// <summary>Credits from the faucet.</summary>
    Faucet = 4,

    /// <summary>A job's maximum price held in escrow at submission (amount negative).</summary>
    EscrowHold = 5,

    /// <summary>A job's hold released when it settled (amount positive; its payments follow).</summary>
    EscrowRelease = 6,

    /// <summary>A node paid for a job's run (amount negative).</summary>
    JobPayment = 7,

    /// <summary>Paid for a run of another account's job (amount positive).</summary>
    JobIncome = 8,

    /// <summary>A storage charge paid to a node's payee for the shard bytes it holds of this account's objects (amount negative).</summary>
    StoragePayment = 9,

    /// <summary>Paid for holding another account's shard bytes (amount positive).</summary>
    StorageIncome = 10,
}

/// <summary>One entry of an account's history.</summary>
/// <param name="Seq">1, 2, … per account.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Amount">Micro-xmbl.c: positive in, negative out.</param>
/// <param name="Balance">The balance after the entry.</param>
/// <param name="Counterparty">The other account of a transfer.</param>
/// <param name="TransferId">The transfer's id.</param>
/// <param name="At">When it happened.</param>
[GenerateSerializer, Immutable, Alias("xmbl.LedgerEntry")]
public sealed record LedgerEntry(long Seq, LedgerEntryKind Kind, long Amount, long Balance, string? Counterparty, string? TransferId, DateTimeOffset At);
