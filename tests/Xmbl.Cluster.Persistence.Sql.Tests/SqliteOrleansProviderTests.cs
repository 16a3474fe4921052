using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// Embedded mode's storage: a real in-process Orleans silo (localhost clustering) with the 10.4.2 AdoNet grain storage
/// and reminders on a SQLite file that our migrator created.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class SqliteOrleansProviderTests : IDisposable
{
    private readonly TempDirectory _directory = new("xmbl-orleans-sqlite");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task GrainState_and_reminders_survive_a_silo_restart()
    {
        var connectionString = await MigrateAsync();
        int ticksBeforeRestart;
        await using (var host = await StartSiloAsync(connectionString))
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            Assert.Equal(5, await grains.GetGrain<ICounterGrain>("c1").AddAsync(5, "five"));
            Assert.Equal(7, await grains.GetGrain<ICounterGrain>("c1").AddAsync(2, "seven"));
            Assert.Equal(1, await grains.GetGrain<ICounterGrain>("c2").AddAsync(1, "one"));

            var ticker = grains.GetGrain<ITickGrain>("t1");
            await ticker.StartAsync(TimeSpan.FromSeconds(1));
            ticksBeforeRestart = await WaitForTicksAsync(ticker, atLeast: 1);
            await host.StopAsync();
        }

        await using (var host = await StartSiloAsync(connectionString))
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var state = await grains.GetGrain<ICounterGrain>("c1").GetAsync();
            Assert.Equal(7, state.Value);
            Assert.Equal("seven", state.Note);
            Assert.Equal(1, (await grains.GetGrain<ICounterGrain>("c2").GetAsync()).Value);

            // The reminder was only in the table: the new silo loads it and it fires again, on a grain whose count
            // came back from storage.
            var ticker = grains.GetGrain<ITickGrain>("t1");
            Assert.True(await ticker.TicksAsync() >= ticksBeforeRestart);
            await WaitForTicksAsync(ticker, atLeast: ticksBeforeRestart + 1);
            await ticker.StopAsync();
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task GrainStorage_meets_the_provider_contract()
    {
        var connectionString = await MigrateAsync();
        await using var host = await StartSiloAsync(connectionString);
        var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(TestStorage.Name);
        await GrainStorageConformance.RunAsync(storage, "sqlite");
        await GrainStorageConformance.RunDeleteOnClearAsync(host.Services.GetRequiredKeyedService<IGrainStorage>(TestStorage.DeletingName), "sqlite");
        await host.StopAsync();
    }

    [Fact]
    public async Task ReminderTable_meets_the_provider_contract()
    {
        SqliteAdoNet.RegisterProviderFactory();
        var connectionString = await MigrateAsync();
        await ReminderTableConformance.RunAsync(ReminderTableConformance.Create(SqliteAdoNet.Invariant, connectionString, "xmbl-test"));
    }

    private async Task<string> MigrateAsync()
    {
        var connectionString = $"Data Source={_directory.File("silo.db")}";
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync();
        return connectionString;
    }

    internal static async Task<int> WaitForTicksAsync(ITickGrain ticker, int atLeast)
    {
        // Generous: a restarted silo's reminder service loads the table only once it has started, and CI is loaded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var ticks = await ticker.TicksAsync();
            if (ticks >= atLeast)
            {
                return ticks;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The reminder ticked {ticks} times in 120 s; expected at least {atLeast}.");
            await Task.Delay(200);
        }
    }

    private static async Task<AsyncDisposableHost> StartSiloAsync(string connectionString)
    {
        SqliteAdoNet.RegisterProviderFactory();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: TcpPorts.Free(), gatewayPort: TcpPorts.Free(), serviceId: "xmbl-test", clusterId: "xmbl-embedded");
            silo.AddAdoNetGrainStorage(TestStorage.Name, o =>
            {
                o.Invariant = SqliteAdoNet.Invariant;
                o.ConnectionString = connectionString;
            });
            silo.AddAdoNetGrainStorage(TestStorage.DeletingName, o =>
            {
                o.Invariant = SqliteAdoNet.Invariant;
                o.ConnectionString = connectionString;
                o.DeleteStateOnClear = true;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = SqliteAdoNet.Invariant;
                o.ConnectionString = connectionString;
            });
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        var host = new AsyncDisposableHost(builder.Build());
        await host.StartAsync();
        return host;
    }

    /// <summary>An <see cref="IHost"/> that disposes asynchronously (Orleans' services are async-disposable).</summary>
    private sealed class AsyncDisposableHost(IHost host) : IAsyncDisposable
    {
        public IServiceProvider Services => host.Services;

        public Task StartAsync() => host.StartAsync();

        public Task StopAsync() => host.StopAsync();

        public async ValueTask DisposeAsync()
        {
            if (host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }
        }
    }
}
