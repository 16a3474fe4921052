using Xmbl.Cluster.Grains.Interfaces.Objects;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Turns the durable repair reminder into a repair pass on the silo that received the tick.</summary>
/// <remarks>The pass runs outside the grain call (grain calls stay short); <see cref="StorageRepairService"/> runs at most one at a time.</remarks>
public sealed class StorageRepairGrain(StorageRepairService repairs) : Grain, IStorageRepairGrain
{
    private const string ReminderName = "repair";

    /// <inheritdoc/>
    public async Task ScheduleAsync(TimeSpan period) => await this.RegisterOrUpdateReminder(ReminderName, period, period);

    /// <inheritdoc/>
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        repairs.Trigger();
        return Task.CompletedTask;
    }
}
