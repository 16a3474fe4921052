namespace Xmbl.Cluster.Persistence.Sql;

/// <summary>The databases the schema is written for.</summary>
public enum SqlDialect
{
    /// <summary>PostgreSQL (cluster mode): clustering, grain state and reminders; Orleans invariant <c>Npgsql</c>.</summary>
    PostgreSql,

    /// <summary>SQLite (embedded mode): grain state and reminders; Orleans invariant <c>System.Data.SQLite</c>.</summary>
    Sqlite,
}
