namespace Xmbl.Cluster.Persistence.Sql.Internal;

/// <summary>Log event ids of Xmbl.Cluster.Persistence.Sql (range 6000-6099).</summary>
internal static class PersistenceSqlEventId
{
    public const int SchemaUpToDate = 6000;
    public const int ScriptApplied = 6001;
    public const int MigrationSkipped = 6002;
    public const int DatabaseNewer = 6003;
    public const int WaitingForLock = 6004;

    public const int GrainStorageStarted = 6010;
    public const int GrainStorageBatchFailed = 6011;
    public const int GrainStateUnreadable = 6012;
    public const int GrainStorageStopped = 6013;
}
