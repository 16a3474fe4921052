using Microsoft.Extensions.DependencyInjection;

namespace Xmbl.Cluster;

/// <summary>
/// The clock of the cluster's own logic (job deadlines, heartbeats, shard ages): a <see cref="TimeProvider"/>
/// registered under <see cref="Key"/>. Keyed so that a test's manual clock never reaches Orleans' runtime, which
/// takes the unkeyed <see cref="TimeProvider"/> for its own timers and timeouts.
/// </summary>
public static class ClusterClock
{
    /// <summary>The service key of the cluster's clock.</summary>
    public const string Key = "xmbl-clock";

    /// <summary>The cluster's clock: the keyed one, else the unkeyed one, else the system clock.</summary>
    /// <param name="services">The services.</param>
    /// <returns>The clock.</returns>
    public static TimeProvider From(IServiceProvider services) =>
        services.GetKeyedService<TimeProvider>(Key) ?? services.GetService<TimeProvider>() ?? TimeProvider.System;
}
