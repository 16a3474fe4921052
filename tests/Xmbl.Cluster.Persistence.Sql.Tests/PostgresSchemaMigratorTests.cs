using Npgsql;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

[Collection("Postgres")]
[Trait("Suite", "Postgres")]
public sealed class PostgresSchemaMigratorTests(PostgresFixture postgres)
{
    private static SchemaMigrator Migrator(string connectionString, bool migrate = true) =>
        new(new SchemaMigrationOptions { Dialect = SqlDialect.PostgreSql, ConnectionString = connectionString, Migrate = migrate });

    [Fact]
    public async Task Concurrent_silos_apply_each_script_exactly_once_and_a_later_run_changes_nothing()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var scripts = SchemaScripts.For(SqlDialect.PostgreSql);

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Migrator(connectionString).MigrateAsync())));
        Assert.Single(results, r => r.Applied.Count > 0);
        Assert.Equal(scripts, results.SelectMany(r => r.Applied).OrderBy(s => s.Version));
        Assert.All(results, r => Assert.Equal(scripts[^1].Version, r.DatabaseVersion));

        var again = await Migrator(connectionString).MigrateAsync();
        Assert.Empty(again.Applied);
        Assert.Equal((long)scripts.Count, await ScalarAsync(connectionString, "SELECT count(*) FROM xmbl_schema_version"));
        Assert.Equal(21L, await ScalarAsync(connectionString, "SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task NoMigrate_reports_pending_scripts_and_creates_nothing()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var result = await Migrator(connectionString, migrate: false).MigrateAsync();
        Assert.Equal(SchemaScripts.For(SqlDialect.PostgreSql), result.Pending);
        Assert.Equal(0L, await ScalarAsync(connectionString, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    [Fact]
    public async Task A_failing_script_leaves_no_part_of_the_run_behind()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        // A conflicting object makes script 2 fail after script 1 ran in the same transaction.
        await ExecuteAsync(connectionString, "CREATE VIEW orleans_membership_version AS SELECT 1 AS deployment_id");
        var error = await Assert.ThrowsAsync<SchemaMigrationException>(() => Migrator(connectionString).MigrateAsync());
        Assert.Contains("0002-orleans-clustering.sql", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync(connectionString, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    [Fact]
    public async Task Scripts_applied_by_hand_twice_are_taken_over_by_the_first_migration()
    {
        // An operator ran the files with psql (twice, by mistake); the silo's first migration must not fail on them.
        var connectionString = await postgres.CreateDatabaseAsync();
        for (var round = 0; round < 2; round++)
        {
            foreach (var script in SchemaScripts.For(SqlDialect.PostgreSql))
            {
                await ExecuteAsync(connectionString, script.Text);
            }
        }

        var result = await Migrator(connectionString).MigrateAsync();
        Assert.Equal(SchemaScripts.For(SqlDialect.PostgreSql), result.Applied);
        Assert.Equal(21L, await ScalarAsync(connectionString, "SELECT count(*) FROM OrleansQuery"));
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
