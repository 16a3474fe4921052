namespace Xmbl.Cluster.Persistence.Sql.Migrations;

/// <summary>What a migration run found and did.</summary>
/// <param name="Dialect">The database kind.</param>
/// <param name="Applied">Scripts applied by this run, in order (empty when up to date or when migration is off).</param>
/// <param name="Pending">Scripts still missing after this run (non-empty only when migration is off).</param>
/// <param name="DatabaseVersion">The highest version recorded in the database after this run (0: none).</param>
public sealed record SchemaMigrationResult(
    SqlDialect Dialect,
    IReadOnlyList<SchemaScript> Applied,
    IReadOnlyList<SchemaScript> Pending,
    int DatabaseVersion);
