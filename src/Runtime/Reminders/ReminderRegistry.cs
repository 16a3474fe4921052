using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Reminders;

/// <summary>Registers and removes reminders on behalf of grains.</summary>
internal sealed class ReminderRegistry(GrainRuntime runtime, IPersistenceBackend backend)
{
    public async Task RegisterOrUpdateAsync(GrainRegistration registration, GrainId id, string name, TimeSpan dueTime, TimeSpan period, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!registration.IsRemindable)
        {
            throw new InvalidOperationException($"Grain interface {registration.InterfaceType.Name} must derive from IRemindable to register reminders.");
        }

        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "A reminder's period must be positive.");
        }

        if (dueTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "A reminder's due time cannot be negative.");
        }

        var start = runtime.TimeProvider.GetUtcNow() + dueTime;
        await backend.Reminders.UpsertAsync(new ReminderEntry(id.Type, id.Key, name, start, period, start), ct).ConfigureAwait(false);
        backend.ReminderChanged.Set();
    }

    public async Task UnregisterAsync(GrainId id, string name, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        await backend.Reminders.DeleteAsync(id, name, ct).ConfigureAwait(false);
    }
}
