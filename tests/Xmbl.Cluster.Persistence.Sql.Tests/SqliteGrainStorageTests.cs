using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// Embedded mode's own grain storage, <see cref="SqliteGrainStorage"/>, in a real in-process Orleans silo: the same
/// contract as the AdoNet provider, group commit, its limits, and the SQLite file shared with the AdoNet reminders.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class SqliteGrainStorageTests : IDisposable
{
    private const string BatchOfTwo = "xmbl-batch-2";
    private const string ShortBusy = "xmbl-busy-1s";

    private readonly TempDirectory _directory = new("xmbl-sqlite-storage");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task SqliteGrainStorage_meets_the_provider_contract()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteSilo.StartAsync(connectionString);
        await GrainStorageConformance.RunAsync(host.Storage(TestStorage.Name), "sqlite-own");
        await GrainStorageConformance.RunDeleteOnClearAsync(host.Storage(TestStorage.DeletingName), "sqlite-own");
        await host.StopAsync();
    }

    [Fact]
    public async Task GrainState_and_AdoNet_reminders_on_one_file_survive_a_silo_restart()
    {
        var connectionString = await MigrateAsync();
        int ticksBeforeRestart;
        await using (var host = await SqliteSilo.StartAsync(connectionString))
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            Assert.Equal(5, await grains.GetGrain<ICounterGrain>("c1").AddAsync(5, "five"));
            Assert.Equal(7, await grains.GetGrain<ICounterGrain>("c1").AddAsync(2, "seven"));
            var ticker = grains.GetGrain<ITickGrain>("t1");
            await ticker.StartAsync(TimeSpan.FromSeconds(1));
            ticksBeforeRestart = await SqliteOrleansProviderTests.WaitForTicksAsync(ticker, atLeast: 1);
            await host.StopAsync();
        }

        // The rows are in our table (readable JSON), the reminder in the AdoNet one.
        Assert.Equal("{\"Value\":7,\"Note\":\"seven\"}", await ScalarAsync<string>(connectionString, "SELECT CAST(payload AS TEXT) FROM xmbl_grain_state WHERE state_name = 'counter' AND grain_key = 'c1'"));
        Assert.Equal(1L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM orleans_reminder"));

        await using (var host = await SqliteSilo.StartAsync(connectionString))
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var state = await grains.GetGrain<ICounterGrain>("c1").GetAsync();
            Assert.Equal(7, state.Value);
            Assert.Equal("seven", state.Note);
            var ticker = grains.GetGrain<ITickGrain>("t1");
            Assert.True(await ticker.TicksAsync() >= ticksBeforeRestart);
            await SqliteOrleansProviderTests.WaitForTicksAsync(ticker, atLeast: ticksBeforeRestart + 1);
            await ticker.StopAsync();
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Concurrent_writes_of_many_grains_share_transactions_and_all_commit_before_returning()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteSilo.StartAsync(connectionString);
        var storage = host.Storage(TestStorage.Name);
        const int Grains = 64;
        const int WritesEach = 20;
        var ids = Enumerable.Range(0, Grains).Select(g => GrainId.Create("xmbl-test", $"g{g}")).ToArray();
        var states = ids.Select(_ => new GrainState<CounterState>(new CounterState())).ToArray();
        // Another connection holds the database's write lock while every grain's first write is issued: the write
        // that leads waits on it (busy timeout) and the others queue behind it, so once the lock is released they
        // commit together. Without this, how many writes overlap would depend on how busy the machine is.
        await using (var blocker = new SqliteConnection(connectionString))
        {
            await blocker.OpenAsync();
            using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }

            var first = ids.Select((id, g) => Task.Run(() =>
            {
                states[g].State!.Value = 1;
                return storage.WriteStateAsync("concurrent", id, states[g]);
            })).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(1));
            using (var commit = blocker.CreateCommand())
            {
                commit.CommandText = "COMMIT";
                await commit.ExecuteNonQueryAsync();
            }

            await Task.WhenAll(first);
        }

        // Then each grain writes on, one write after another, on threads of their own.
        await Task.WhenAll(Enumerable.Range(0, Grains).Select(g => Task.Factory.StartNew(
            () =>
            {
                for (var i = 2; i <= WritesEach; i++)
                {
                    states[g].State!.Value = i;
                    storage.WriteStateAsync("concurrent", ids[g], states[g]).GetAwaiter().GetResult();
                    Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), states[g].ETag);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        // Committed when the call returned: another connection sees every last write.
        Assert.Equal((long)Grains, await ScalarAsync<long>(connectionString, $"SELECT count(*) FROM xmbl_grain_state WHERE state_name = 'concurrent' AND version = {WritesEach}"));
        var own = (SqliteGrainStorage)storage;
        Assert.True(own.LargestBatch > 1, "No transaction held more than one write.");
        Assert.True(own.Transactions < Grains * WritesEach, $"{own.Transactions} transactions for {Grains * WritesEach} writes.");
        await host.StopAsync();
    }

    [Fact]
    public async Task A_completed_write_is_in_the_files_a_killed_process_leaves_behind()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteSilo.StartAsync(connectionString, reminders: false);
        var storage = host.Storage(TestStorage.Name);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(g => Task.Run(() =>
            storage.WriteStateAsync("durable", GrainId.Create("xmbl-test", $"g{g}"), new GrainState<CounterState>(new CounterState { Value = g })))));

        // What kill -9 leaves: the database and WAL files as they are now (the OS keeps what the process wrote), with
        // the storage's connection still open and no checkpoint. Copies are opened as a restarted silo would.
        var copy = _directory.File("after-kill.db");
        var path = _directory.File("silo.db");
        File.Copy(path, copy);
        File.Copy(path + "-wal", copy + "-wal");
        var restarted = $"Data Source={copy}";
        Assert.Equal(50L, await ScalarAsync<long>(restarted, "SELECT count(*) FROM xmbl_grain_state WHERE state_name = 'durable' AND version = 1"));
        var entry = await new SqliteGrainStateQuery(restarted).GetAsync<CounterState>("durable", "g49");
        Assert.Equal(49, entry!.State.Value);
        await host.StopAsync();
    }

    [Fact]
    public async Task MaxBatchSize_bounds_the_writes_committed_in_one_transaction()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteSilo.StartAsync(connectionString);
        var storage = (SqliteGrainStorage)host.Storage(BatchOfTwo);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(g => Task.Run(() =>
            storage.WriteStateAsync("batched", GrainId.Create("xmbl-test", $"g{g}"), new GrainState<CounterState>(new CounterState { Value = g })))));
        Assert.Equal(200L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM xmbl_grain_state WHERE state_name = 'batched'"));
        Assert.InRange(storage.LargestBatch, 1, 2);
        Assert.True(storage.Transactions >= 100);
        Assert.Equal(SqliteGrainStorageOptions.DefaultMaxBatchSize, new SqliteGrainStorageOptions().MaxBatchSize);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_write_waits_for_another_connections_write_lock_up_to_BusyTimeoutSeconds_then_fails()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteSilo.StartAsync(connectionString);
        await using var other = new SqliteConnection(connectionString);
        await other.OpenAsync();

        // Held shorter than the timeout (the default 30 s, so a loaded machine cannot turn it into a failure): the write
        // waits, then commits.
        await ExecuteOnAsync(other, "BEGIN IMMEDIATE");
        var started = Stopwatch.StartNew();
        // On a pool thread: an uncontended write commits on the caller's thread, which SQLite's busy wait then holds.
        var waiting = Task.Run(() => host.Storage(TestStorage.Name).WriteStateAsync("busy", GrainId.Create("xmbl-test", "waits"), new GrainState<CounterState>(new CounterState())));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, $"{started.Elapsed}: {waiting.Exception}");
        await ExecuteOnAsync(other, "COMMIT");
        await waiting;

        // Held longer than a storage with BusyTimeoutSeconds = 1 waits: its write fails after about a second, and
        // nothing of it is stored.
        await ExecuteOnAsync(other, "BEGIN IMMEDIATE");
        started.Restart();
        var error = await Assert.ThrowsAsync<SqliteException>(() => Task.Run(() => host.Storage(ShortBusy).WriteStateAsync("busy", GrainId.Create("xmbl-test", "gives-up"), new GrainState<CounterState>(new CounterState()))));
        Assert.Equal(5, error.SqliteErrorCode); // SQLITE_BUSY
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
        await ExecuteOnAsync(other, "ROLLBACK");
        Assert.Equal(0L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM xmbl_grain_state WHERE grain_key = 'gives-up'"));
        Assert.Equal(SqliteGrainStorageOptions.DefaultBusyTimeoutSeconds, new SqliteGrainStorageOptions().BusyTimeoutSeconds);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_stored_state_that_does_not_deserialize_fails_the_read_naming_state_and_key()
    {
        var connectionString = await MigrateAsync();
        await using var host = await SqliteSilo.StartAsync(connectionString);
        var storage = host.Storage(TestStorage.Name);
        var id = GrainId.Create("xmbl-test", "corrupt");
        await storage.WriteStateAsync("counter", id, new GrainState<CounterState>(new CounterState { Value = 3 }));
        await ExecuteAsync(connectionString, "UPDATE xmbl_grain_state SET payload = CAST('{\"Value\":\"not a number\"}' AS BLOB) WHERE grain_key = 'corrupt'");

        var error = await Assert.ThrowsAsync<GrainStateReadException>(() => storage.ReadStateAsync("counter", id, new GrainState<CounterState>(new CounterState())));
        Assert.Equal("counter", error.StateName);
        Assert.Equal("corrupt", error.GrainKey);
        Assert.Contains("CounterState", error.Message, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_silo_on_a_file_without_the_schema_does_not_start_and_says_to_migrate()
    {
        var connectionString = $"Data Source={_directory.File("unmigrated.db")}";
        var error = await Assert.ThrowsAnyAsync<Exception>(() => SqliteSilo.StartAsync(connectionString, reminders: false));
        var message = Flatten(error);
        Assert.Contains("xmbl_grain_state", message, StringComparison.Ordinal);
        Assert.Contains("SchemaMigrator", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stopped_storage_refuses_writes()
    {
        var connectionString = await MigrateAsync();
        var host = await SqliteSilo.StartAsync(connectionString);
        var storage = host.Storage(TestStorage.Name);
        await storage.WriteStateAsync("stopped", GrainId.Create("xmbl-test", "before"), new GrainState<CounterState>(new CounterState()));
        await host.StopAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteStateAsync("stopped", GrainId.Create("xmbl-test", "after"), new GrainState<CounterState>(new CounterState())));
        await host.DisposeAsync();
        Assert.Equal(1L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM xmbl_grain_state WHERE state_name = 'stopped'"));
    }

    [Theory]
    [InlineData("", 512, 30, "ConnectionString")]
    [InlineData("Data Source=", 512, 30, "ConnectionString")]
    [InlineData("Data Source=x.db", 0, 30, "MaxBatchSize")]
    [InlineData("Data Source=x.db", 10_001, 30, "MaxBatchSize")]
    [InlineData("Data Source=x.db", 512, 0, "BusyTimeoutSeconds")]
    [InlineData("Data Source=x.db", 512, 3601, "BusyTimeoutSeconds")]
    public void Unusable_options_are_refused_naming_the_setting(string connectionString, int maxBatchSize, int busyTimeoutSeconds, string setting)
    {
        var options = new SqliteGrainStorageOptions { ConnectionString = connectionString, MaxBatchSize = maxBatchSize, BusyTimeoutSeconds = busyTimeoutSeconds };
        var error = Assert.Throws<OrleansConfigurationException>(() => new SqliteGrainStorageOptionsValidator(options, "store").ValidateConfiguration());
        Assert.Contains($"{nameof(SqliteGrainStorageOptions)}.{setting}", error.Message, StringComparison.Ordinal);
        Assert.Contains("'store'", error.Message, StringComparison.Ordinal);
        Assert.Null(SqliteGrainStorageOptionsValidator.Check(new SqliteGrainStorageOptions { ConnectionString = "Data Source=x.db" }, "store"));
    }

    [Fact]
    public async Task A_silo_with_unusable_options_does_not_start()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: TcpPorts.Free(), gatewayPort: TcpPorts.Free());
            silo.AddSqliteGrainStorageAsDefault(o => o.ConnectionString = "");
        });
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OrleansConfigurationException>(() => host.StartAsync());
        Assert.Contains("ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddSqliteGrainStorageAsDefault_serves_grains_that_name_no_storage()
    {
        var connectionString = await MigrateAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: TcpPorts.Free(), gatewayPort: TcpPorts.Free());
            silo.AddSqliteGrainStorageAsDefault(o => o.ConnectionString = connectionString);
        });
        using var host = builder.Build();
        await host.StartAsync();
        Assert.IsType<SqliteGrainStorage>(host.Services.GetRequiredService<IGrainStorage>());
        Assert.Same(host.Services.GetRequiredService<IGrainStorage>(), host.Services.GetRequiredKeyedService<IGrainStorage>("Default"));
        await host.StopAsync();
    }

    private async Task<string> MigrateAsync()
    {
        var connectionString = $"Data Source={_directory.File("silo.db")}";
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync();
        return connectionString;
    }

    private static string Flatten(Exception error)
    {
        var text = "";
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            text += e.Message + " | ";
        }

        return error is AggregateException aggregate ? text + string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(Flatten)) : text;
    }

    internal static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteOnAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>An in-process embedded silo: <see cref="SqliteGrainStorage"/> under the test names, AdoNet reminders, one file.</summary>
    internal sealed class SqliteSilo(IHost host) : IAsyncDisposable
    {
        public IServiceProvider Services => host.Services;

        public IGrainStorage Storage(string name) => host.Services.GetRequiredKeyedService<IGrainStorage>(name);

        public static async Task<SqliteSilo> StartAsync(string connectionString, bool reminders = true)
        {
            SqliteAdoNet.RegisterProviderFactory();
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort: TcpPorts.Free(), gatewayPort: TcpPorts.Free(), serviceId: "xmbl-test", clusterId: "xmbl-embedded");
                silo.AddSqliteGrainStorage(TestStorage.Name, o => o.ConnectionString = connectionString);
                silo.AddSqliteGrainStorage(TestStorage.DeletingName, o =>
                {
                    o.ConnectionString = connectionString;
                    o.DeleteStateOnClear = true;
                });
                silo.AddSqliteGrainStorage(BatchOfTwo, o =>
                {
                    o.ConnectionString = connectionString;
                    o.MaxBatchSize = 2;
                });
                silo.AddSqliteGrainStorage(ShortBusy, o =>
                {
                    o.ConnectionString = connectionString;
                    o.BusyTimeoutSeconds = 1;
                });
                if (reminders)
                {
                    silo.UseAdoNetReminderService(o =>
                    {
                        o.Invariant = SqliteAdoNet.Invariant;
                        o.DataSource = new SqliteConnectionSource(connectionString);
                    });
                    silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
                }
            });
            var host = builder.Build();
            try
            {
                await host.StartAsync();
            }
            catch
            {
                host.Dispose();
                throw;
            }

            return new SqliteSilo(host);
        }

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
