using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Reminders;

/// <summary>
/// Delivers due reminders: claims them atomically (so each tick goes to one silo), calls
/// <see cref="IRemindable.ReceiveReminderAsync"/> through the normal grain-call path, then sleeps until the next
/// due time, a wake-up (reminder changed), or the poll period, whichever comes first.
/// </summary>
internal sealed partial class ReminderService(
    IPersistenceBackend backend,
    GrainRuntime runtime,
    SiloOptions options,
    TimeProvider timeProvider,
    ILogger logger)
{
    private const int BatchSize = 256;

    /// <summary>Reported after each poll, once the wait for the next one is armed; for tests.</summary>
    public ProgressTracker Progress { get; } = new();

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            // Take the wake-up before polling so a change made during the poll is not missed.
            var changed = backend.ReminderChanged.WaitTask;
            var now = timeProvider.GetUtcNow();
            var wait = options.ReminderPollPeriod;
            try
            {
                var claimed = await backend.Reminders.ClaimDueAsync(now, BatchSize, ct).ConfigureAwait(false);
                if (claimed.Count > 0)
                {
                    await Parallel.ForEachAsync(
                        claimed,
                        new ParallelOptions { MaxDegreeOfParallelism = options.ReminderConcurrency, CancellationToken = ct },
                        async (tick, _) => await DeliverAsync(tick).ConfigureAwait(false)).ConfigureAwait(false);
                }

                if (claimed.Count == BatchSize)
                {
                    Progress.Report(now);
                    continue;
                }

                var next = await backend.Reminders.GetNextDueAsync(ct).ConfigureAwait(false);
                if (next is { } due)
                {
                    var untilDue = due - now;
                    wait = untilDue < TimeSpan.Zero ? TimeSpan.Zero : (untilDue < wait ? untilDue : wait);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPollFailed(ex);
            }

            // The wait is measured from the poll's start: the clock may have moved while we talked to the database.
            var remaining = now + wait - timeProvider.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                Progress.Report(now);
                continue;
            }

            using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(remaining, timeProvider, delayCancel.Token);
            Progress.Report(now);
            await Task.WhenAny(delay, changed).ConfigureAwait(false);
            await delayCancel.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync(ReminderTick tick)
    {
        try
        {
            if (!runtime.Registry.TryGetByType(tick.GrainType, out var registration) || !registration.IsRemindable)
            {
                LogUnknownGrain(tick.GrainType, tick.GrainKey, tick.Name);
                return;
            }

            var grain = (IRemindable)runtime.GetGrain(registration.InterfaceType, tick.GrainKey);
            await grain.ReceiveReminderAsync(tick.Name, new TickStatus(tick.StartAt, tick.Period, tick.TickTime)).ConfigureAwait(false);
            LogDelivered(tick.GrainType, tick.GrainKey, tick.Name, tick.TickTime);
        }
        catch (Exception ex)
        {
            // Orleans semantics: a failed tick is not retried; the next period fires as usual.
            LogDeliveryFailed(ex, tick.GrainType, tick.GrainKey, tick.Name);
        }
    }

    [LoggerMessage(EventId = RuntimeEventId.ReminderDelivered, Level = LogLevel.Debug, Message = "Reminder {Name} of grain {GrainType}/{GrainKey} delivered (tick {TickTime:O})")]
    private partial void LogDelivered(string grainType, string grainKey, string name, DateTimeOffset tickTime);

    [LoggerMessage(EventId = RuntimeEventId.ReminderFailed, Level = LogLevel.Warning, Message = "Reminder {Name} of grain {GrainType}/{GrainKey} failed; the next tick fires as scheduled")]
    private partial void LogDeliveryFailed(Exception ex, string grainType, string grainKey, string name);

    [LoggerMessage(EventId = RuntimeEventId.ReminderPollFailed, Level = LogLevel.Error, Message = "Looking for due reminders failed; retrying after the poll period")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(EventId = RuntimeEventId.ReminderForUnknownGrain, Level = LogLevel.Warning, Message = "Reminder {Name} of grain {GrainType}/{GrainKey} skipped: no remindable grain class is registered for {GrainType} in this silo")]
    private partial void LogUnknownGrain(string grainType, string grainKey, string name);
}
