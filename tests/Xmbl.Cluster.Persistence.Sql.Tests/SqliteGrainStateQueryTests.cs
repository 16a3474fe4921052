using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary><see cref="SqliteGrainStateQuery"/> over state that real grains wrote through <see cref="SqliteGrainStorage"/>.</summary>
[Trait("Suite", "Functional")]
public sealed class SqliteGrainStateQueryTests : IDisposable
{
    private readonly TempDirectory _directory = new("xmbl-sqlite-query");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Query_lists_and_reads_what_grains_wrote_in_key_order_with_exact_prefixes_and_paging()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteGrainStorageTests.SqliteSilo.StartAsync(connectionString);
        await GrainStateQueryConformance.RunAsync(host.Services.GetRequiredService<IGrainFactory>(), new SqliteGrainStateQuery(connectionString));
        await host.StopAsync();
    }

    [Fact]
    public async Task A_row_that_does_not_deserialize_fails_the_query_naming_state_and_key()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteGrainStorageTests.SqliteSilo.StartAsync(connectionString);
        await GrainStateQueryConformance.RunUnreadableAsync(
            host.Storage(TestStorage.Name),
            new SqliteGrainStateQuery(connectionString),
            () => SqliteGrainStorageTests.ExecuteAsync(connectionString, "UPDATE xmbl_grain_state SET payload = CAST('[1,2' AS BLOB) WHERE grain_key = 'broken'"));
        await host.StopAsync();
    }

    private async Task<string> MigrateAsync()
    {
        var connectionString = $"Data Source={_directory.File("silo.db")}";
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync();
        return connectionString;
    }
}
