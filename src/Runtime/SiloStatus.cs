namespace Xmbl.Cluster.Runtime;

/// <summary>The life cycle of a silo in the membership table.</summary>
public enum SiloStatus
{
    /// <summary>Starting up: schema checked, not yet serving.</summary>
    Joining = 0,

    /// <summary>Running: heartbeating and delivering reminders.</summary>
    Active = 1,

    /// <summary>Stopping cleanly.</summary>
    ShuttingDown = 2,

    /// <summary>Stopped, or declared dead because its heartbeat is older than the death timeout; a dead silo id never comes back.</summary>
    Dead = 3,
}
