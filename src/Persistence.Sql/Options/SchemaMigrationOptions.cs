namespace Xmbl.Cluster.Persistence.Sql.Options;

/// <summary>How the silo brings its database schema up to date at start.</summary>
public sealed class SchemaMigrationOptions
{
    /// <summary>Default of <see cref="CommandTimeoutSeconds"/>.</summary>
    public const int DefaultCommandTimeoutSeconds = 120;

    /// <summary>The database kind.</summary>
    public SqlDialect Dialect { get; set; }

    /// <summary>The connection string (PostgreSQL: Npgsql form; SQLite: <c>Data Source=path</c>). A secret: never logged.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// Apply pending scripts (default true). False (the silo's <c>--no-migrate</c>) leaves the schema to the operator:
    /// nothing is changed, and pending scripts are only reported.
    /// </summary>
    public bool Migrate { get; set; } = true;

    /// <summary>
    /// Seconds one migration may take, waiting for another silo's migration included (PostgreSQL: command timeout,
    /// including the wait for the advisory lock; SQLite: the busy wait for the write lock). Default 120.
    /// </summary>
    public int CommandTimeoutSeconds { get; set; } = DefaultCommandTimeoutSeconds;
}
