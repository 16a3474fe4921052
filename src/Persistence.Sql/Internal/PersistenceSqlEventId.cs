namespace Xmbl.Cluster.Persistence.Sql.Internal;

/// <summary>Log event ids of the schema migrator (range 6000-6099).</summary>
internal static class PersistenceSqlEventId
{
    public const int SchemaUpToDate = 6000;
    public const int ScriptApplied = 6001;
    public const int MigrationSkipped = 6002;
    public const int DatabaseNewer = 6003;
    public const int WaitingForLock = 6004;
}
