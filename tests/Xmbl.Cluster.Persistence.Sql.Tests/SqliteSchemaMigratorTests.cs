using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

[Trait("Suite", "Functional")]
public sealed class SqliteSchemaMigratorTests : IDisposable
{
    private readonly TempDirectory _directory = new("xmbl-migrate-sqlite");

    public void Dispose() => _directory.Dispose();

    private string ConnectionString => $"Data Source={_directory.File("silo.db")}";

    private SchemaMigrator Migrator(bool migrate = true) =>
        new(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = ConnectionString, Migrate = migrate });

    [Fact]
    public async Task Migrate_applies_every_script_once_and_a_second_run_changes_nothing()
    {
        var first = await Migrator().MigrateAsync();
        Assert.Equal(SchemaScripts.For(SqlDialect.Sqlite), first.Applied);
        Assert.Equal(SchemaScripts.LatestVersion(SqlDialect.Sqlite), first.DatabaseVersion);

        var second = await Migrator().MigrateAsync();
        Assert.Empty(second.Applied);
        Assert.Empty(second.Pending);
        Assert.Equal(first.DatabaseVersion, second.DatabaseVersion);
        Assert.Equal((long)SchemaScripts.For(SqlDialect.Sqlite).Count, Scalar("SELECT count(*) FROM xmbl_schema_version"));
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Equal(11L, Scalar("SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task Concurrent_migrators_apply_each_script_exactly_once()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Migrator().MigrateAsync())));
        var applied = results.SelectMany(r => r.Applied).ToList();
        Assert.Equal(SchemaScripts.For(SqlDialect.Sqlite).Count, applied.Count);
        Assert.Equal(SchemaScripts.For(SqlDialect.Sqlite), applied.OrderBy(s => s.Version));
        Assert.Single(results, r => r.Applied.Count > 0);
        Assert.All(results, r => Assert.Equal(SchemaScripts.LatestVersion(SqlDialect.Sqlite), r.DatabaseVersion));
    }

    [Fact]
    public async Task NoMigrate_reports_pending_scripts_and_creates_nothing()
    {
        var result = await Migrator(migrate: false).MigrateAsync();
        Assert.Empty(result.Applied);
        Assert.Equal(SchemaScripts.For(SqlDialect.Sqlite), result.Pending);
        Assert.Equal(0, result.DatabaseVersion);
        Assert.Equal(0L, Scalar("SELECT count(*) FROM sqlite_master"));

        await Migrator().MigrateAsync();
        var after = await Migrator(migrate: false).MigrateAsync();
        Assert.Empty(after.Pending);
        Assert.Equal(SchemaScripts.LatestVersion(SqlDialect.Sqlite), after.DatabaseVersion);
    }

    [Fact]
    public async Task A_recorded_script_that_was_edited_since_is_refused()
    {
        await Migrator().MigrateAsync();
        Scalar("UPDATE xmbl_schema_version SET sha256 = 'edited' WHERE version = 2");
        var error = await Assert.ThrowsAsync<SchemaMigrationException>(() => Migrator().MigrateAsync());
        Assert.Contains("0002-orleans-persistence.sql", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scripts_applied_by_hand_before_the_first_migration_are_taken_over()
    {
        // An operator ran the files with the sqlite3 shell; the silo's first migration must not fail on them.
        foreach (var script in SchemaScripts.For(SqlDialect.Sqlite))
        {
            Scalar(script.Text);
        }

        var result = await Migrator().MigrateAsync();
        Assert.Equal(SchemaScripts.For(SqlDialect.Sqlite).Count, result.Applied.Count);
        Assert.Equal(11L, Scalar("SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public void Invalid_options_are_refused_naming_the_setting()
    {
        var empty = Assert.Throws<ArgumentException>(() => new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite }));
        Assert.Contains(nameof(SchemaMigrationOptions.ConnectionString), empty.Message, StringComparison.Ordinal);
        var timeout = Assert.Throws<ArgumentException>(() => new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = ConnectionString, CommandTimeoutSeconds = 0 }));
        Assert.Contains(nameof(SchemaMigrationOptions.CommandTimeoutSeconds), timeout.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SqliteSynchronous.Normal, 1L)]
    [InlineData(SqliteSynchronous.Full, 2L)]
    public async Task ConnectionSource_applies_the_synchronous_level_and_busy_timeout_to_every_connection(SqliteSynchronous level, long expected)
    {
        await Migrator().MigrateAsync();
        await using var source = new SqliteConnectionSource(ConnectionString + ";Default Timeout=7", level);
        for (var i = 0; i < 3; i++)
        {
            // Async open is what the AdoNet providers use; pooled handles come back on later rounds.
            await using var connection = await source.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous";
            Assert.Equal(expected, await command.ExecuteScalarAsync());
            command.CommandText = "PRAGMA busy_timeout";
            Assert.Equal(7000L, await command.ExecuteScalarAsync());
        }
    }

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
