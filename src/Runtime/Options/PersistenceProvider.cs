namespace Xmbl.Cluster.Runtime.Options;

/// <summary>The database that holds grain state, membership and reminders.</summary>
public enum PersistenceProvider
{
    /// <summary>An embedded SQLite file (the zero-configuration default).</summary>
    Sqlite = 0,

    /// <summary>A PostgreSQL database shared by all silos and gateways of a cluster.</summary>
    Postgres = 1,
}
