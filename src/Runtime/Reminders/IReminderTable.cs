using Xmbl.Cluster.Runtime.Core;

namespace Xmbl.Cluster.Runtime.Reminders;

/// <summary>The reminder contract every backend implements; the conformance tests run against each.</summary>
internal interface IReminderTable
{
    /// <summary>Inserts or replaces a reminder's schedule.</summary>
    Task UpsertAsync(ReminderEntry entry, CancellationToken ct);

    /// <summary>Removes a reminder; false if it did not exist.</summary>
    Task<bool> DeleteAsync(GrainId id, string name, CancellationToken ct);

    /// <summary>The reminders of one grain, by name.</summary>
    Task<IReadOnlyList<ReminderEntry>> ListAsync(GrainId id, CancellationToken ct);

    /// <summary>
    /// Atomically claims up to <paramref name="limit"/> reminders due at <paramref name="now"/> and moves each one's next
    /// due time to its first tick after <paramref name="now"/>, so no other silo claims the same tick.
    /// </summary>
    /// <returns>The claimed ticks; <see cref="ReminderTick.TickTime"/> is the latest scheduled tick not after <paramref name="now"/>.</returns>
    Task<IReadOnlyList<ReminderTick>> ClaimDueAsync(DateTimeOffset now, int limit, CancellationToken ct);

    /// <summary>The earliest next due time of any reminder, or null if there are none.</summary>
    Task<DateTimeOffset?> GetNextDueAsync(CancellationToken ct);
}

/// <summary>One stored reminder.</summary>
internal sealed record ReminderEntry(string GrainType, string GrainKey, string Name, DateTimeOffset StartAt, TimeSpan Period, DateTimeOffset NextDue)
{
    public GrainId GrainId => new(GrainType, GrainKey);
}

/// <summary>A claimed reminder tick, ready to deliver.</summary>
internal sealed record ReminderTick(string GrainType, string GrainKey, string Name, DateTimeOffset StartAt, TimeSpan Period, DateTimeOffset TickTime);

/// <summary>Tick arithmetic shared by the backends.</summary>
internal static class ReminderSchedule
{
    /// <summary>The latest tick at or before <paramref name="now"/> (at least <paramref name="start"/>).</summary>
    public static DateTimeOffset LatestTick(DateTimeOffset start, TimeSpan period, DateTimeOffset now)
    {
        if (now <= start)
        {
            return start;
        }

        var elapsed = (now - start).Ticks;
        return start + TimeSpan.FromTicks(elapsed / period.Ticks * period.Ticks);
    }

    /// <summary>The first tick strictly after <paramref name="now"/>.</summary>
    public static DateTimeOffset NextTickAfter(DateTimeOffset start, TimeSpan period, DateTimeOffset now) =>
        now < start ? start : LatestTick(start, period, now) + period;
}
