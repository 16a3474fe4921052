using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>
/// An account of the ledger (see <see cref="IAccountGrain"/>). Exactly-once transfers without distributed transactions:
/// the debit and the credit owed are one durable write of the sender; the credit is then delivered, and redelivered
/// by a reminder until the receiver acknowledges it; the receiver takes each sender's nonce once.
/// </summary>
/// <remarks>
/// Not a <see cref="DurableGrain{TState}"/>: the debit must be stored before the credit is sent (mid-call), and credits
/// interleave with a transfer waiting on its receiver (else A paying B while B pays A would wait on each other). Writes
/// go one at a time, each of the whole state, whose every change is made between awaits, so each write is consistent.
/// A failed write ends the activation: the next one loads what is stored.
/// </remarks>
internal sealed partial class AccountGrain(
    [PersistentState(GrainStates.Account, GrainStates.Storage)] IPersistentState<AccountGrainState> state,
    IOptions<LedgerOptions> options,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    ILogger<AccountGrain> logger)
    : Grain, IAccountGrain, IRemindable
{
    /// <summary>History entries per page (page keys follow from it: part of the storage format).</summary>
    public const int HistoryPageSize = 100;

    /// <summary>Entries the account keeps before it moves them to their page: each write carries at most about this many.</summary>
    public const int HistorySealChunk = 20;

    /// <summary>The reminder that redelivers credits.</summary>
    public const string DeliveryReminderName = "ledger-delivery";

    private readonly SemaphoreSlim _writes = new(1, 1);
    private bool _broken;

    // Group commit: each SaveAsync call takes a number after its changes; a write covers every number taken before it began.
    private long _saveRequests;
    private long _savedUpTo;
    private bool _sealing;

    private AccountGrainState State => state.State;

    private string Id => this.GetPrimaryKeyString();

    public async Task<LedgerOutcome> TransferAsync(TransferOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        ThrowIfBroken();
        if (order.Amount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(order), "A transfer moves at least 1 micro-xmbl.c.");
        }

        if (string.Equals(order.To, Id, StringComparison.Ordinal))
        {
            throw new ArgumentException("An account cannot transfer to itself.", nameof(order));
        }

        if (order.Nonce <= State.LastNonce)
        {
            return Refused(LedgerRefusal.NonceUsed);
        }

        if (order.Amount > State.Balance)
        {
            return Refused(LedgerRefusal.InsufficientFunds);
        }

        // The reminder exists before the first credit is owed, so a crash after the write below still delivers it.
        await EnsureDeliveryReminderAsync();
        if (order.Nonce <= State.LastNonce || order.Amount > State.Balance)
        {
            // Only credits ran during the await (balances only rise), but check again rather than reason about it.
            return Refused(order.Nonce <= State.LastNonce ? LedgerRefusal.NonceUsed : LedgerRefusal.InsufficientFunds);
        }

        var id = Id + "/" + order.Nonce.ToString(System.Globalization.CultureInfo.InvariantCulture);
        State.Balance -= order.Amount;
        State.LastNonce = order.Nonce;
        State.Outbox.Add(new TransferCredit(id, Id, order.To, order.Nonce, order.Amount, order.At));
        Append(LedgerEntryKind.TransferOut, -order.Amount, order.To, id, order.At);
        await SaveAsync();

        await DeliverAsync();
        await SealHistoryAsync();
        var delivered = !State.Outbox.Exists(c => c.TransferId == id);
        return new LedgerOutcome(LedgerRefusal.Done, Snapshot(), id, delivered);
    }

    public async Task CreditAsync(TransferCredit credit)
    {
        ArgumentNullException.ThrowIfNull(credit);
        ThrowIfBroken();
        // Payouts (jobs, storage) share the sender's payout counter, apart from its transfer nonces.
        var payout = credit.Kind is LedgerEntryKind.JobIncome or LedgerEntryKind.StorageIncome;
        var credited = payout ? State.CreditedPayouts : State.Credited;
        if (credited.TryGetValue(credit.From, out var last) && credit.Nonce <= last)
        {
            // Already credited: a redelivery after a lost acknowledgement, or while the first delivery's write is
            // still running. Acknowledge only once that write is stored: writing again guarantees it.
            await SaveAsync();
            return;
        }

        State.Balance = checked(State.Balance + credit.Amount);
        credited[credit.From] = credit.Nonce;
        Append(payout ? credit.Kind : LedgerEntryKind.TransferIn, credit.Amount, credit.From, credit.TransferId, credit.At);
        await SaveAsync();

        // An account that only receives keeps its state small too.
        await SealHistoryAsync();
    }

    public async Task<LedgerOutcome> HoldAsync(string jobId, long amount, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        ThrowIfBroken();
        if (State.Holds.ContainsKey(jobId))
        {
            return new LedgerOutcome(LedgerRefusal.Done, Snapshot());
        }

        if (amount > State.Balance)
        {
            return Refused(LedgerRefusal.InsufficientFunds);
        }

        // The reminder settles holds whose job never came to be (a crash between this hold and the job's first write).
        await EnsureDeliveryReminderAsync();
        if (State.Holds.ContainsKey(jobId) || amount > State.Balance)
        {
            return State.Holds.ContainsKey(jobId) ? new LedgerOutcome(LedgerRefusal.Done, Snapshot()) : Refused(LedgerRefusal.InsufficientFunds);
        }

        State.Balance -= amount;
        State.Holds[jobId] = new EscrowHold(amount, at);
        Append(LedgerEntryKind.EscrowHold, -amount, null, jobId, at);
        await SaveAsync();
        await SealHistoryAsync();
        return new LedgerOutcome(LedgerRefusal.Done, Snapshot());
    }

    public async Task<EscrowOutcome> SettleHoldAsync(EscrowSettlement settlement)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        ThrowIfBroken();
        if (!State.Holds.TryGetValue(settlement.JobId, out var hold))
        {
            return new EscrowOutcome(0, 0, 0, AlreadySettled: true);
        }

        long paid = 0;
        foreach (var payout in settlement.Payouts)
        {
            if (payout.Amount < 1 || string.IsNullOrEmpty(payout.Payee) || payout.Amount > hold.Amount - paid)
            {
                throw new ArgumentException($"Payouts of job {settlement.JobId} must each be at least 1 and add up to at most its hold of {hold.Amount}.", nameof(settlement));
            }

            paid += payout.Amount;
        }

        // One write: the hold ends, the payouts are owed (delivered like transfer credits), the rest is refunded.
        State.Holds.Remove(settlement.JobId);
        State.Balance += hold.Amount;
        Append(LedgerEntryKind.EscrowRelease, hold.Amount, null, settlement.JobId, settlement.At);
        foreach (var payout in settlement.Payouts)
        {
            if (string.Equals(payout.Payee, Id, StringComparison.Ordinal))
            {
                // The submitter ran its own job: the payment stays here.
                continue;
            }

            State.LastPayout++;
            State.Balance -= payout.Amount;
            var id = PayoutId(settlement.JobId, payout);
            State.Outbox.Add(new TransferCredit(id, Id, payout.Payee, State.LastPayout, payout.Amount, settlement.At, LedgerEntryKind.JobIncome));
            Append(LedgerEntryKind.JobPayment, -payout.Amount, payout.Payee, id, settlement.At);
        }

        await EnsureDeliveryReminderAsync();
        await SaveAsync();
        await DeliverAsync();
        await SealHistoryAsync();
        return new EscrowOutcome(hold.Amount, paid, hold.Amount - paid, AlreadySettled: false);
    }

    /// <summary>The id of a job payout: the job and the assignment paid.</summary>
    public static string PayoutId(string jobId, EscrowPayout payout) =>
        jobId + "/" + payout.AssignmentId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async Task<StorageChargeOutcome> ChargeStorageAsync(StorageCharge charge)
    {
        ArgumentNullException.ThrowIfNull(charge);
        ThrowIfBroken();
        ArgumentOutOfRangeException.ThrowIfLessThan(charge.Period, 1);
        if (charge.Period <= State.StoragePeriod)
        {
            return new StorageChargeOutcome(AlreadyCharged: true, 0, StorageOwedTotal(), Snapshot());
        }

        foreach (var line in charge.Lines)
        {
            if (line.Amount < 1 || string.IsNullOrEmpty(line.Payee) || string.Equals(line.Payee, Id, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Storage charge lines of period {charge.Period} each pay another account at least 1.", nameof(charge));
            }
        }

        long total = StorageOwedTotal();
        foreach (var line in charge.Lines)
        {
            total = checked(total + line.Amount);
        }

        if (total > 0 && total <= State.Balance)
        {
            // Before the payments are owed, as for transfers; only credits run during the await (balances only rise).
            await EnsureDeliveryReminderAsync();
            if (charge.Period <= State.StoragePeriod)
            {
                return new StorageChargeOutcome(AlreadyCharged: true, 0, StorageOwedTotal(), Snapshot());
            }
        }

        // One write: the period is taken, its lines are owed, and paid with everything owed before if the balance covers it.
        State.StoragePeriod = charge.Period;
        foreach (var line in charge.Lines)
        {
            State.StorageOwed[line.Payee] = checked(State.StorageOwed.GetValueOrDefault(line.Payee) + line.Amount);
        }

        var paid = State.DeliveryReminder ? PayStorageOwed(charge.To) : 0;
        await SaveAsync();
        if (paid > 0)
        {
            await DeliverAsync();
            await SealHistoryAsync();
        }

        return new StorageChargeOutcome(AlreadyCharged: false, paid, StorageOwedTotal(), Snapshot());
    }

    public async Task<AccountSnapshot> PayStorageOwedAsync(DateTimeOffset at)
    {
        ThrowIfBroken();
        if (State.StorageOwed.Count == 0 || StorageOwedTotal() > State.Balance)
        {
            return Snapshot();
        }

        await EnsureDeliveryReminderAsync();
        if (PayStorageOwed(at) > 0)
        {
            await SaveAsync();
            await DeliverAsync();
            await SealHistoryAsync();
        }

        return Snapshot();
    }

    /// <summary>
    /// Pays every payee what it is owed for storage when the balance covers all of it (all or nothing, so no payee is
    /// favoured); each payment is owed as a credit like a job payout. Changes the state only; the caller writes it.
    /// </summary>
    private long PayStorageOwed(DateTimeOffset at)
    {
        var owed = StorageOwedTotal();
        if (owed == 0 || owed > State.Balance)
        {
            return 0;
        }

        var id = Id + "/storage/" + State.StoragePeriod.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (payee, amount) in State.StorageOwed.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            State.LastPayout++;
            State.Balance -= amount;
            State.Outbox.Add(new TransferCredit(id, Id, payee, State.LastPayout, amount, at, LedgerEntryKind.StorageIncome));
            Append(LedgerEntryKind.StoragePayment, -amount, payee, id, at);
        }

        State.StorageOwed.Clear();
        return owed;
    }

    private long StorageOwedTotal()
    {
        long owed = 0;
        foreach (var amount in State.StorageOwed.Values)
        {
            owed = checked(owed + amount);
        }

        return owed;
    }

    public async Task<LedgerOutcome> MintAsync(long amount, long nonce, DateTimeOffset at)
    {
        ThrowIfBroken();
        ArgumentOutOfRangeException.ThrowIfLessThan(amount, 1);
        if (nonce <= State.LastNonce)
        {
            return Refused(LedgerRefusal.NonceUsed);
        }

        if (amount > long.MaxValue - State.Balance || amount > long.MaxValue - State.Created)
        {
            return Refused(LedgerRefusal.Overflow);
        }

        State.LastNonce = nonce;
        State.Balance += amount;
        State.Created += amount;
        Append(LedgerEntryKind.Mint, amount, null, null, at);
        await SaveAsync();
        await SealHistoryAsync();
        return new LedgerOutcome(LedgerRefusal.Done, Snapshot());
    }

    public async Task<LedgerOutcome> FaucetAsync(long amount, FaucetLimits limits, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ThrowIfBroken();
        ArgumentOutOfRangeException.ThrowIfLessThan(amount, 1);
        if (amount > limits.MaxPerRequest)
        {
            return Refused(LedgerRefusal.FaucetLimit);
        }

        var windowOver = at >= State.FaucetWindowStart + limits.Window;
        var used = windowOver ? 0 : State.FaucetWindowAmount;
        if (amount > limits.MaxPerWindow - used)
        {
            return Refused(LedgerRefusal.FaucetLimit) with { RetryAfter = State.FaucetWindowStart + limits.Window };
        }

        if (amount > long.MaxValue - State.Balance || amount > long.MaxValue - State.Created)
        {
            return Refused(LedgerRefusal.Overflow);
        }

        if (windowOver)
        {
            State.FaucetWindowStart = at;
        }

        State.FaucetWindowAmount = used + amount;
        State.Balance += amount;
        State.Created += amount;
        Append(LedgerEntryKind.Faucet, amount, null, null, at);
        await SaveAsync();
        await SealHistoryAsync();
        return new LedgerOutcome(LedgerRefusal.Done, Snapshot());
    }

    public async Task<bool> DeliverPendingAsync()
    {
        ThrowIfBroken();
        var before = State.Outbox.Count;
        await DeliverAsync();
        if (State.Outbox.Count != before)
        {
            // Acknowledgements are otherwise stored with the next write; here there may be none for a while.
            await SaveAsync();
        }

        return State.Outbox.Count == 0;
    }

    public Task<AccountSnapshot> GetAsync() => Task.FromResult(Snapshot());

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != DeliveryReminderName)
        {
            return;
        }

        if (!await DeliverPendingAsync())
        {
            return;
        }

        if (State.Holds.Count > 0)
        {
            CheckOldHolds();
            return;
        }

        // Nothing owed or held: drop the reminder until the next transfer or hold needs it.
        if (await this.GetReminder(DeliveryReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        State.DeliveryReminder = false;
        await SaveAsync();
    }

    /// <summary>
    /// Asks the jobs of holds older than <see cref="LedgerOptions.EscrowCheckAfter"/> to settle: a final job whose
    /// settlement was lost settles now, a job that was never created refunds its hold. One-way, so the job's call back
    /// to this account does not wait on this call.
    /// </summary>
    private void CheckOldHolds()
    {
        var before = time.GetUtcNow() - options.Value.EscrowCheckAfter;
        foreach (var (jobId, hold) in State.Holds)
        {
            if (hold.At <= before)
            {
                _ = GrainFactory.GetGrain<Interfaces.Jobs.IJobGrain>(jobId).SettleEscrowAsync(Id);
            }
        }
    }

    /// <summary>Delivers owed credits oldest first; a receiver that fails keeps its later credits queued behind the failed one.</summary>
    private async Task DeliverAsync()
    {
        HashSet<string>? blocked = null;
        for (var i = 0; i < State.Outbox.Count;)
        {
            var credit = State.Outbox[i];
            var to = credit.To;
            if (blocked?.Contains(to) == true)
            {
                i++;
                continue;
            }

            try
            {
                await GrainFactory.GetGrain<IAccountGrain>(to).CreditAsync(credit);
                // Stored with the next write; until then a crash only means a redelivery, which is acknowledged.
                State.Outbox.RemoveAt(i);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDeliveryFailed(logger, ex, credit.TransferId, to);
                (blocked ??= new HashSet<string>(StringComparer.Ordinal)).Add(to);
                i++;
            }
        }
    }

    private async Task EnsureDeliveryReminderAsync()
    {
        if (State.DeliveryReminder)
        {
            return;
        }

        var period = options.Value.DeliveryRetryPeriod;
        await this.RegisterOrUpdateReminder(DeliveryReminderName, period, period);
        State.DeliveryReminder = true;
    }

    /// <summary>
    /// Moves the oldest entries (up to the end of their page) to their page grain once <see cref="HistorySealChunk"/>
    /// have gathered, so the account's state, written with every transfer, stays small.
    /// </summary>
    /// <remarks>
    /// The removal is stored with the account's next write: until then the stored state still holds the moved entries,
    /// which readers skip (they read entries before the first kept one from pages) and a later move adds again,
    /// which the page ignores.
    /// </remarks>
    private async Task SealHistoryAsync()
    {
        if (State.Recent.Count < HistorySealChunk || _sealing)
        {
            // Credits interleave: one move at a time, so each removes the entries it moved.
            return;
        }

        _sealing = true;

        var first = State.Recent[0].Seq;
        var page = (first - 1) / HistoryPageSize;
        var count = (int)Math.Min(State.Recent.Count, ((page + 1) * HistoryPageSize) - first + 1);
        var entries = State.Recent.GetRange(0, count);
        try
        {
            await GrainFactory.GetGrain<IAccountHistoryPageGrain>(PageKey(Id, page)).SealAsync(entries);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The entries stay here and are moved by a later call.
            LogSealFailed(logger, ex, Id, page);
            return;
        }
        finally
        {
            _sealing = false;
        }

        // Other calls only append meanwhile.
        State.Recent.RemoveRange(0, count);
    }

    /// <summary>The key of an account's history page.</summary>
    public static string PageKey(string account, long page) =>
        account + "/" + page.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    private void Append(LedgerEntryKind kind, long amount, string? counterparty, string? transferId, DateTimeOffset at)
    {
        State.HistoryCount++;
        State.Recent.Add(new LedgerEntry(State.HistoryCount, kind, amount, State.Balance, counterparty, transferId, at));
    }

    private LedgerOutcome Refused(LedgerRefusal refusal) => new(refusal, Snapshot());

    private AccountSnapshot Snapshot()
    {
        long pending = 0;
        foreach (var credit in State.Outbox)
        {
            pending += credit.Amount;
        }

        long held = 0;
        foreach (var hold in State.Holds.Values)
        {
            held += hold.Amount;
        }

        return new(Id, State.Balance, State.LastNonce, State.HistoryCount, pending, held, State.Holds.Count, StorageOwedTotal());
    }

    private void ThrowIfBroken()
    {
        if (_broken)
        {
            throw new InvalidOperationException($"Account {Id} failed to store its state; retry (the next activation loads the stored state).");
        }
    }

    /// <summary>
    /// Stores the whole state with the caller's changes, one write at a time; a failure ends the activation. Callers
    /// that queued behind a running write share the next one (credits arriving together cost one write).
    /// </summary>
    private async Task SaveAsync()
    {
        var mine = ++_saveRequests;
        await _writes.WaitAsync();
        try
        {
            ThrowIfBroken();
            if (_savedUpTo >= mine)
            {
                // A write that began after this caller's changes were made has stored them.
                return;
            }

            var covers = _saveRequests;
            await state.WriteStateAsync();
            _savedUpTo = covers;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !_broken)
        {
            _broken = true;
            DeactivateOnIdle();
            LogWriteFailed(logger, ex, Id);
            throw;
        }
        finally
        {
            _writes.Release();
        }
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Warning, Message = "Credit {TransferId} to {Receiver} not delivered; retried by the account's reminder")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception ex, string transferId, string receiver);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "History page {Page} of {Account} not sealed; kept in the account until a later call")]
    private static partial void LogSealFailed(ILogger logger, Exception ex, string account, long page);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Account {Account} failed to store its state; the activation ends")]
    private static partial void LogWriteFailed(ILogger logger, Exception ex, string account);
}
