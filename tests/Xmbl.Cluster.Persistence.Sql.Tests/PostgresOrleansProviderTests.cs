using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// Cluster mode's storage: Orleans' test cluster (two silos over TCP) with the 10.4.2 AdoNet clustering, grain storage
/// and reminders on invariant "Npgsql", against a throwaway PostgreSQL holding our schema.
/// </summary>
[Collection("Postgres")]
[Trait("Suite", "Postgres")]
public sealed class PostgresOrleansProviderTests(PostgresFixture postgres)
{
    private const string ConnectionStringKey = "XmblTest:ConnectionString";

    [Fact]
    public async Task Two_silos_join_through_the_membership_table_and_state_and_reminders_survive_a_cluster_restart()
    {
        var connectionString = await MigratedDatabaseAsync();
        var clusterId = $"xmbl-{Guid.NewGuid():N}"[..20];
        int ticksBeforeRestart;

        var cluster = await DeployAsync(connectionString, clusterId, silos: 2);
        try
        {
            // Both silos are in the table as Active (status 3), and learn of each other from it.
            Assert.Equal(2, await ActiveSilosAsync(connectionString, clusterId));
            var management = cluster.Client.GetGrain<IManagementGrain>(0);
            await WaitForAsync(async () => (await management.GetHosts(onlyActive: true)).Count == 2, "both silos to list each other as active");

            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(i + 1, await cluster.Client.GetGrain<ICounterGrain>($"c{i}").AddAsync(i + 1, $"n{i}"));
            }

            var ticker = cluster.Client.GetGrain<ITickGrain>("t1");
            await ticker.StartAsync(TimeSpan.FromSeconds(1));
            ticksBeforeRestart = await SqliteOrleansProviderTests.WaitForTicksAsync(ticker, atLeast: 1);
            Assert.Equal(1L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM orleans_reminder"));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }

        cluster = await DeployAsync(connectionString, clusterId, silos: 1);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var state = await cluster.Client.GetGrain<ICounterGrain>($"c{i}").GetAsync();
                Assert.Equal(i + 1, state.Value);
                Assert.Equal($"n{i}", state.Note);
            }

            var ticker = cluster.Client.GetGrain<ITickGrain>("t1");
            await SqliteOrleansProviderTests.WaitForTicksAsync(ticker, atLeast: ticksBeforeRestart + 1);
            await ticker.StopAsync();
            Assert.Equal(0L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM orleans_reminder"));

            // The restarted silo is the only Active one; the two before it were shut down gracefully (status 6 = Dead).
            Assert.Equal(1, await ActiveSilosAsync(connectionString, clusterId));
            Assert.Equal(2L, await ScalarAsync<long>(connectionString, $"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{clusterId}' AND status = 6"));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task GrainStorage_meets_the_provider_contract()
    {
        var connectionString = await MigratedDatabaseAsync();
        var cluster = await DeployAsync(connectionString, $"xmbl-{Guid.NewGuid():N}"[..20], silos: 1);
        try
        {
            var silo = Assert.IsType<InProcessSiloHandle>(cluster.Silos[0]);
            var storage = silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(TestStorage.Name);
            await GrainStorageConformance.RunAsync(storage, "postgres");
            await GrainStorageConformance.RunDeleteOnClearAsync(silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(TestStorage.DeletingName), "postgres");
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task ReminderTable_meets_the_provider_contract()
    {
        var connectionString = await MigratedDatabaseAsync();
        await ReminderTableConformance.RunAsync(ReminderTableConformance.Create("Npgsql", connectionString, "xmbl-test"));
    }

    [Fact]
    public async Task MembershipTable_meets_the_provider_contract()
    {
        var connectionString = await MigratedDatabaseAsync();
        await MembershipTableConformance.RunAsync("Npgsql", connectionString);
    }

    private async Task<string> MigratedDatabaseAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.PostgreSql, ConnectionString = connectionString }).MigrateAsync();
        return connectionString;
    }

    private static async Task<TestCluster> DeployAsync(string connectionString, string clusterId, short silos)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.ClusterId = clusterId;
        builder.Options.ServiceId = "xmbl-test";
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after 60 s waiting for {what}.");
            await Task.Delay(200);
        }
    }

    private static Task<int> ActiveSilosAsync(string connectionString, string clusterId) =>
        ScalarAsync<int>(connectionString, $"SELECT count(*)::integer FROM orleans_membership WHERE deployment_id = '{clusterId}' AND status = 3");

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration[ConnectionStringKey];
            siloBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            siloBuilder.AddAdoNetGrainStorage(TestStorage.Name, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            siloBuilder.AddAdoNetGrainStorage(TestStorage.DeletingName, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
                o.DeleteStateOnClear = true;
            });
            siloBuilder.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            siloBuilder.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = configuration[ConnectionStringKey];
            });
    }
}
