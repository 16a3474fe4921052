using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Turns the durable repair reminder into a repair pass on whichever live silo claimed the tick.</summary>
/// <remarks>The pass runs outside the grain call (grain calls are short transactions); <see cref="StorageRepairService"/> runs at most one at a time.</remarks>
public sealed class StorageRepairGrain : Grain, IStorageRepairGrain
{
    private const string ReminderName = "repair";

    /// <inheritdoc/>
    public Task ScheduleAsync(TimeSpan period) => RegisterOrUpdateReminderAsync(ReminderName, period, period);

    /// <inheritdoc/>
    public Task ReceiveReminderAsync(string reminderName, TickStatus status)
    {
        ServiceProvider.GetRequiredService<StorageRepairService>().Trigger();
        return Task.CompletedTask;
    }
}
