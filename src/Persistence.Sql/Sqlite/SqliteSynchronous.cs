namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>SQLite's <c>PRAGMA synchronous</c> levels that make sense in WAL mode.</summary>
public enum SqliteSynchronous
{
    /// <summary>Commits survive a process crash, not a power loss (no fsync per commit, only at checkpoints).</summary>
    Normal = 1,

    /// <summary>Commits survive a power loss (an fsync of the WAL per commit); SQLite's default.</summary>
    Full = 2,
}
