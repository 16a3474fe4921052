namespace Xmbl.Cluster.IntegrationTests.Support;

/// <summary>Command-line settings of test silos in cluster mode.</summary>
internal static class ClusterArgs
{
    /// <summary>
    /// Short failure detection, so a killed silo is declared dead within seconds (Orleans' probes: 1 s, twice) and its
    /// nodes count as dead after 3 s without heartbeats.
    /// </summary>
    public static readonly string[] FastLiveness =
    [
        "--Xmbl:Silo:Membership:ProbeTimeout", "00:00:01",
        "--Xmbl:Silo:Membership:NumMissedProbesLimit", "2",
        "--Xmbl:Silo:Membership:IAmAliveTablePublishTimeout", "00:00:01",
        "--Xmbl:Node:HeartbeatPeriod", "00:00:00.500",
        "--Xmbl:Node:DeathTimeout", "00:00:03",
    ];

    /// <summary>An assignment whose node vanished goes to another node after 2 s rather than the default 10 s.</summary>
    public static readonly string[] FastDispatch = ["--Xmbl:Compute:DispatchGrace", "00:00:02"];

    /// <summary>The shard transport's secret, the same on every silo and gateway of a test cluster.</summary>
    public static string[] Secret(string secret) => ["--Xmbl:Storage:Transport:ClusterSecret", secret];
}
