using Xmbl.Cluster.Grains.Interfaces.Objects;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Turns the durable repair reminder into a repair pass on the silo that received the tick.</summary>
/// <remarks>The pass runs outside the grain call (grain calls stay short); <see cref="StorageRepairService"/> runs at most one at a time.</remarks>
public sealed class StorageRepairGrain(StorageRepairService repairs, IReminderTable reminders) : Grain, IStorageRepairGrain
{
    private const string ReminderName = "repair";

    /// <inheritdoc/>
    public async Task ScheduleAsync(TimeSpan period)
    {
        if (period <= TimeSpan.Zero)
        {
            // Off means off: a reminder stored by an earlier start would otherwise keep firing.
            if (await this.GetReminder(ReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            return;
        }

        // Every silo asks at start. Re-registering would restart the period, so silos that restart more often than
        // the period would postpone the cluster's repair pass for ever: keep a stored reminder of the same period.
        if (await reminders.ReadRow(this.GetGrainId(), ReminderName) is { } stored && stored.Period == period)
        {
            return;
        }

        await this.RegisterOrUpdateReminder(ReminderName, period, period);
    }

    /// <inheritdoc/>
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        repairs.Trigger();
        return Task.CompletedTask;
    }
}
