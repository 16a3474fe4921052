using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.PostgreSql;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// <see cref="PostgresGrainStateQuery"/> over state that real grains wrote through Orleans' AdoNet grain storage (with
/// <see cref="GrainStateJsonSerializer"/>) on a throwaway PostgreSQL; and how that provider stores string keys.
/// </summary>
[Collection("Postgres")]
[Trait("Suite", "Postgres")]
public sealed class PostgresGrainStateQueryTests(PostgresFixture postgres)
{
    private const string ConnectionStringKey = "XmblTest:ConnectionString";
    private const string ServiceId = "xmbl-query";

    [Fact]
    public async Task Query_lists_and_reads_what_grains_wrote_in_key_order_with_exact_prefixes_and_paging()
    {
        var connectionString = await MigratedDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var cluster = await DeployAsync(connectionString);
        try
        {
            await GrainStateQueryConformance.RunAsync(cluster.GrainFactory, new PostgresGrainStateQuery(dataSource, ServiceId));

            // Filtered by service: another service's grains are not listed.
            Assert.Empty(await new PostgresGrainStateQuery(dataSource, "another-service").ListAsync<CounterState>(LabelGrain.StateName, null, null, 100));

            // The listing is a range scan on script 0005's index, not a scan of the table.
            await using var explain = dataSource.CreateCommand(
                "SET enable_seqscan = off; EXPLAIN SELECT grain_id_extension FROM orleans_grain_state WHERE service_id = 'x' AND grain_type = 'label' " +
                "AND grain_id_n0 = 0 AND grain_id_n1 = 0 AND grain_id_extension IS NOT NULL AND payload IS NOT NULL " +
                "AND left(grain_id_extension, 400) COLLATE \"C\" >= left('b/', 400) ORDER BY left(grain_id_extension, 400) COLLATE \"C\", grain_id_extension COLLATE \"C\" LIMIT 10");
            var plan = await ReadAllAsync(explain);
            Assert.Contains("orleans_grain_state_listing", plan, StringComparison.Ordinal);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_row_that_does_not_deserialize_fails_the_query_naming_state_and_key()
    {
        var connectionString = await MigratedDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var cluster = await DeployAsync(connectionString);
        try
        {
            var silo = Assert.IsType<InProcessSiloHandle>(cluster.Silos[0]);
            await GrainStateQueryConformance.RunUnreadableAsync(
                silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(TestStorage.Name),
                new PostgresGrainStateQuery(dataSource, ServiceId),
                async () =>
                {
                    await using var corrupt = dataSource.CreateCommand("UPDATE orleans_grain_state SET payload = convert_to('[1,2', 'UTF8') WHERE grain_id_extension = 'broken'");
                    Assert.Equal(1, await corrupt.ExecuteNonQueryAsync());
                });
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task AdoNet_storage_keeps_a_string_key_as_text_unless_it_reads_as_an_integer_or_guid_key()
    {
        var connectionString = await MigratedDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var cluster = await DeployAsync(connectionString);
        try
        {
            // grain_type is the state name, grain_id_extension the key, the numeric parts zero, the payload our JSON.
            Assert.Equal(3, await cluster.GrainFactory.GetGrain<ICounterGrain>("job-1").AddAsync(3, "three"));
            await using (var row = dataSource.CreateCommand("SELECT grain_type, grain_id_n0, grain_id_n1, convert_from(payload, 'UTF8') FROM orleans_grain_state WHERE service_id = $1 AND grain_id_extension = 'job-1'"))
            {
                row.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ServiceId });
                await using var reader = await row.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.Equal("counter", reader.GetString(0));
                Assert.Equal(0L, reader.GetInt64(1));
                Assert.Equal(0L, reader.GetInt64(2));
                Assert.Equal("{\"Value\":3,\"Note\":\"three\"}", reader.GetString(3));
                Assert.False(await reader.ReadAsync());
            }

            // "c1" reads as the integer key 0xC1: stored as a number, without its text, so "C1" is the same row.
            Assert.Equal(5, await cluster.GrainFactory.GetGrain<ICounterGrain>("c1").AddAsync(5, "c1"));
            Assert.Equal(6, await cluster.GrainFactory.GetGrain<ICounterGrain>("C1").AddAsync(1, "C1"));
            await using (var numeric = dataSource.CreateCommand("SELECT count(*) FROM orleans_grain_state WHERE grain_id_n1 = 193 AND grain_id_extension IS NULL"))
            {
                Assert.Equal(1L, await numeric.ExecuteScalarAsync());
            }

            var query = new PostgresGrainStateQuery(dataSource, ServiceId);
            Assert.Equal(["job-1"], (await query.ListAsync<CounterState>("counter", null, null, 10)).Select(e => e.Key));
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => query.GetAsync<CounterState>("counter", "c1"));
            Assert.Contains("'c1'", refused.Message, StringComparison.Ordinal);
            Assert.Equal(3, (await query.GetAsync<CounterState>("counter", "job-1"))!.State.Value);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("job-1", true)]
    [InlineData("0193a1b2c3d4-a1b2c3d4e5f6", true)]
    [InlineData("ns/name+1", true)]
    [InlineData("node-a", true)]
    [InlineData("c1", false)]
    [InlineData("1234", false)]
    [InlineData("ab+rest", false)]
    [InlineData("0123456789abcdef0123456789abcdef", false)]
    public void IsStoredAsString_follows_Orleans_key_parsing(string key, bool expected) =>
        Assert.Equal(expected, PostgresGrainStateQuery.IsStoredAsString(key));

    private async Task<string> MigratedDatabaseAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.PostgreSql, ConnectionString = connectionString }).MigrateAsync();
        return connectionString;
    }

    private static async Task<string> ReadAllAsync(NpgsqlCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        var text = "";
        do
        {
            while (await reader.ReadAsync())
            {
                text += reader.GetValue(0) + "\n";
            }
        }
        while (await reader.NextResultAsync());

        return text;
    }

    private static async Task<TestCluster> DeployAsync(string connectionString)
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = ServiceId;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddAdoNetGrainStorage(TestStorage.Name, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = siloBuilder.Configuration[ConnectionStringKey];
                o.GrainStorageSerializer = GrainStateJsonSerializer.Default;
            });
    }
}
