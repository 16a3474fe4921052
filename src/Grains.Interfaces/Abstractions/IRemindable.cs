namespace Xmbl.Cluster;

/// <summary>A grain that receives durable reminders (timers stored in the database that survive silo restarts).</summary>
public interface IRemindable : IGrain
{
    /// <summary>Called once per period of a registered reminder, through the normal grain-call path.</summary>
    /// <param name="reminderName">The name the reminder was registered under.</param>
    /// <param name="status">The reminder's first tick, its period and the tick being delivered.</param>
    /// <returns>A task that completes when the tick has been handled.</returns>
    Task ReceiveReminderAsync(string reminderName, TickStatus status);
}
