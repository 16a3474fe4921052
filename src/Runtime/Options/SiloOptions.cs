namespace Xmbl.Cluster.Runtime.Options;

/// <summary>Identity and timing of this silo; bound from the <c>Xmbl:Silo</c> configuration section.</summary>
public sealed class SiloOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Xmbl:Silo";

    /// <summary>Default interval between heartbeats.</summary>
    public static readonly TimeSpan DefaultHeartbeatPeriod = TimeSpan.FromSeconds(2);

    /// <summary>Default age of the last heartbeat after which a silo is declared dead.</summary>
    public static readonly TimeSpan DefaultDeathTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Default interval at which due reminders are looked for when no wake-up arrives.</summary>
    public static readonly TimeSpan DefaultReminderPollPeriod = TimeSpan.FromSeconds(1);

    /// <summary>This process's silo id (<c>Xmbl:Silo:SiloId</c>); a fresh one is generated per process by default.</summary>
    public string SiloId { get; set; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..12]}";

    /// <summary>The address other silos and operators see (<c>Xmbl:Silo:Address</c>), for example <c>10.0.0.5:11111</c>.</summary>
    public string Address { get; set; } = Environment.MachineName;

    /// <summary>Interval between heartbeats and death checks (<c>Xmbl:Silo:HeartbeatPeriod</c>).</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = DefaultHeartbeatPeriod;

    /// <summary>
    /// A silo whose last heartbeat is older than this is declared dead by any live silo (<c>Xmbl:Silo:DeathTimeout</c>).
    /// Detection happens within <c>DeathTimeout + HeartbeatPeriod</c>.
    /// </summary>
    public TimeSpan DeathTimeout { get; set; } = DefaultDeathTimeout;

    /// <summary>Longest wait between looks for due reminders (<c>Xmbl:Silo:ReminderPollPeriod</c>); wake-ups usually come sooner.</summary>
    public TimeSpan ReminderPollPeriod { get; set; } = DefaultReminderPollPeriod;

    /// <summary>
    /// When true (<c>Xmbl:Silo:ClientOnly</c>) the process makes grain calls but neither joins membership nor runs
    /// reminders; for tools and stand-alone gateways.
    /// </summary>
    public bool ClientOnly { get; set; }

    /// <summary>Maximum reminders delivered concurrently by this silo (<c>Xmbl:Silo:ReminderConcurrency</c>).</summary>
    public int ReminderConcurrency { get; set; } = 16;
}
