namespace Xmbl.Cluster.Grains.Interfaces.Objects;

/// <summary>Owns the cluster's repair reminder (one per cluster, key <see cref="ClusterKey"/>): each tick starts a repair pass on the silo that received it.</summary>
[Alias("xmbl.IStorageRepairGrain")]
public interface IStorageRepairGrain : IGrainWithStringKey, IRemindable
{
    /// <summary>The grain key of the single instance.</summary>
    const string ClusterKey = "cluster";

    /// <summary>Registers the repair reminder with this period; keeps a stored one of the same period (so a silo start never postpones a pass); zero removes it.</summary>
    Task ScheduleAsync(TimeSpan period);
}
