using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>Storage charging's stored state (<see cref="GrainStates.StorageCharges"/>).</summary>
public sealed class StorageChargesState
{
    /// <summary>When the last period ended (or charging was turned on); null while charging is off.</summary>
    public DateTimeOffset? ChargedUntil { get; set; }

    /// <summary>The last period charged in full, or null before the first.</summary>
    public StoragePeriod? Last { get; set; }

    /// <summary>A period begun and not finished (a crash or failure mid-pass): the next pass charges it again, same bounds.</summary>
    public StoragePeriod? Pending { get; set; }

    /// <summary>The greatest period number ever begun: numbers are never reused, since accounts take each number once.</summary>
    public long LastNumber { get; set; }
}

/// <summary>Sends one owner's charge of a period (the account grain; tests put a failing one in to cut a pass short).</summary>
public interface IStorageChargeSender
{
    /// <summary>Charges <paramref name="owner"/>; the account takes each period once.</summary>
    Task<StorageChargeOutcome> SendAsync(string owner, StorageCharge charge);
}

/// <summary>Sends charges to the owners' account grains.</summary>
internal sealed class AccountStorageChargeSender(IGrainFactory grains) : IStorageChargeSender
{
    public Task<StorageChargeOutcome> SendAsync(string owner, StorageCharge charge) =>
        grains.GetGrain<IAccountGrain>(owner).ChargeStorageAsync(charge);
}

/// <summary>Charges storage; see <see cref="IStorageChargesGrain"/>.</summary>
/// <remarks>
/// Exactly once per period: the period (number and bounds) is stored before any owner is charged, every account takes
/// a period number once, and a pass cut short is run again with the same number and bounds, so owners charged before
/// the cut are not charged twice and the others are charged once. Objects are read from stored state a page at a time,
/// as they stand during the pass.
/// </remarks>
internal sealed partial class StorageChargesGrain(
    [PersistentState(GrainStates.StorageCharges, GrainStates.Storage)] IPersistentState<StorageChargesState> state,
    IGrainStateQuery query,
    NodeDirectory nodes,
    IStorageChargeSender sender,
    IOptions<LedgerOptions> options,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    ILogger<StorageChargesGrain> logger)
    : Grain, IStorageChargesGrain, IRemindable
{
    /// <summary>The reminder that charges storage: it ticks at least every minute and charges when a period is due.</summary>
    public const string ReminderName = "ledger-storage";

    private const int Page = 1000;

    private StorageChargesState State => state.State;

    private TimeSpan Interval => options.Value.Storage.Interval;

    /// <summary>The reminder's period: a quarter of the interval, from 1 to 10 minutes.</summary>
    private TimeSpan Period => TimeSpan.FromTicks(Math.Clamp(Interval.Ticks / 4, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromMinutes(10).Ticks));

    public async Task StartAsync(bool enabled)
    {
        if (!enabled)
        {
            if (await this.GetReminder(ReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            if (State.ChargedUntil is not null || State.Pending is not null)
            {
                // An unfinished period is dropped; its number stays used (State.LastNumber), so no account skips a later one.
                State.ChargedUntil = null;
                State.Pending = null;
                await state.WriteStateAsync();
            }

            return;
        }

        if (State.ChargedUntil is null)
        {
            State.ChargedUntil = time.GetUtcNow();
            await state.WriteStateAsync();
        }

        await this.RegisterOrUpdateReminder(ReminderName, Period, Period);
    }

    /// <remarks>Due half a reminder period early: a tick landing a moment before the interval would otherwise wait a whole period more.</remarks>
    public async Task<StoragePeriod?> ChargeIfDueAsync()
    {
        if (State.Pending is null && (State.ChargedUntil is not { } until || time.GetUtcNow() - until + (Period / 2) < Interval))
        {
            return null;
        }

        return await ChargeAsync();
    }

    public async Task<StoragePeriod> ChargeAsync()
    {
        if (State.Pending is not { } period)
        {
            var from = State.ChargedUntil ?? throw new InvalidOperationException("Storage charging is off (" + LedgerOptions.SectionName + ":Storage:Enabled).");
            var to = time.GetUtcNow();
            if (to < from)
            {
                to = from;
            }

            period = new StoragePeriod(State.LastNumber + 1, from, to, 0, 0);
            State.LastNumber = period.Number;
            State.Pending = period;
            await state.WriteStateAsync();
        }

        var charging = new StorageCharging(period.From, period.To, (await nodes.ListAsync()).Select(n => n.Node));
        string? after = null;
        while (true)
        {
            var page = await query.ListAsync<ObjectGrainState>(GrainStates.Object, null, after, Page);
            foreach (var entry in page)
            {
                if (entry.State.Current is { } current)
                {
                    charging.Add(current.Owner, current.Manifest);
                }
            }

            if (page.Count < Page)
            {
                break;
            }

            after = page[^1].Key;
        }

        var owners = 0;
        long amount = 0;
        var failures = 0;
        foreach (var (owner, lines) in charging.Charges())
        {
            var charge = new StorageCharge(period.Number, period.From, period.To, lines);
            try
            {
                var outcome = await sender.SendAsync(owner, charge);
                if (outcome.Owed > 0)
                {
                    LogOwed(logger, owner, outcome.Owed, outcome.Account.Balance);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The others are still charged; the period stays pending and the next tick charges it again.
                failures++;
                LogOwnerFailed(logger, ex, owner, period.Number);
                continue;
            }

            owners++;
            foreach (var line in lines)
            {
                amount += line.Amount;
            }
        }

        if (failures > 0)
        {
            throw new InvalidOperationException($"Storage period {period.Number}: charging {failures} owner(s) failed; the period is charged again at the next tick (owners already charged are not charged twice).");
        }

        period = period with { Owners = owners, Amount = amount };
        State.Last = period;
        State.ChargedUntil = period.To;
        State.Pending = null;
        await state.WriteStateAsync();
        Telemetry.ClusterTelemetry.StorageCharged(amount);
        LogCharged(logger, period.Number, period.From, period.To, owners, amount);
        return period;
    }

    public Task<StoragePeriod?> LastAsync() => Task.FromResult(State.Last);

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName)
        {
            return;
        }

        try
        {
            await ChargeIfDueAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogPassFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 5106, Level = LogLevel.Information, Message = "Storage period {Number} ({From} to {To}) charged: {Owners} owner(s), {Amount} micro-xmbl.c")]
    private static partial void LogCharged(ILogger logger, long number, DateTimeOffset from, DateTimeOffset to, int owners, long amount);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "Charging storage failed; the next reminder tick retries the same period")]
    private static partial void LogPassFailed(ILogger logger, Exception ex);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Warning, Message = "Charging storage to {Owner} for period {Period} failed; retried with the period")]
    private static partial void LogOwnerFailed(ILogger logger, Exception ex, string owner, long period);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Information, Message = "Account {Owner} owes {Owed} micro-xmbl.c for storage (balance {Balance}); its new puts are refused until it pays")]
    private static partial void LogOwed(ILogger logger, string owner, long owed, long balance);
}

/// <summary>Registers (or with charging off, removes) the storage charging reminder when the silo starts, retried until the grain answers.</summary>
internal sealed partial class StorageChargesStarter(IGrainFactory grains, IOptions<LedgerOptions> options, LedgerMode mode, ILogger<StorageChargesStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IStorageChargesGrain>(IStorageChargesGrain.Key).StartAsync(options.Value.Storage.Enabled ?? !mode.Embedded);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
            {
                LogStartFailed(logger, ex, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 5110, Level = LogLevel.Warning, Message = "Registering the storage charging reminder failed (attempt {Attempt}); retrying")]
    private static partial void LogStartFailed(ILogger logger, Exception ex, int attempt);
}
