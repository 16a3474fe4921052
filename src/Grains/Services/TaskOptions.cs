namespace Xmbl.Cluster.Grains.Services;

/// <summary>The task workflow's options, bound from <c>Xmbl:Services:Tasks</c>.</summary>
public sealed class TaskOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Services:Tasks";

    /// <summary>How long a task request waits for the nodes' fitness answers (<c>FitnessTimeout</c>, default 2 s); nodes answering later are left out.</summary>
    public TimeSpan FitnessTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a task's isolated namespace outlives the task's end (<c>DataRetention</c>, default 1 day); then its objects are deleted.</summary>
    public TimeSpan DataRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long the recipient has to acknowledge a delivered result before it is delivered again (<c>AckTimeout</c>, default 5 min; it doubles after each delivery).</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times an unacknowledged result is delivered before the task is <c>reported</c> (<c>Deliveries</c>, default 4).</summary>
    public int Deliveries { get; set; } = 4;

    /// <summary>Verified packages a silo keeps compiled (<c>CachedPackages</c>, default 64).</summary>
    public int CachedPackages { get; set; } = 64;

    /// <summary>The most bytes a task's inputs may take together (<c>MaxInputBytes</c>, default 1 MiB; they travel in the job's spec).</summary>
    public long MaxInputBytes { get; set; } = 1024 * 1024;

    /// <summary>Validators per task (<c>Validators</c>, default 1: a task is proven like a job).</summary>
    public int Validators { get; set; } = 1;
}
