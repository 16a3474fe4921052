namespace Xmbl.Cluster.Grains.Interfaces.Objects;

/// <summary>Owns the cluster's repair reminder (one per cluster, key <see cref="ClusterKey"/>): each tick starts a repair pass on the silo that received it.</summary>
[Alias("xmbl.IStorageRepairGrain")]
public interface IStorageRepairGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>The grain key of the single instance.</summary>
    const string ClusterKey = "cluster";

    /// <summary>Registers (or updates) the repair reminder with this period.</summary>
    Task ScheduleAsync(TimeSpan period);
}
