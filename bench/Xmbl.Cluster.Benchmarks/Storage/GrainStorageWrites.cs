using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Testing;
using OrleansGrainFactory = Orleans.IGrainFactory;
using OrleansGrainId = Orleans.Runtime.GrainId;

namespace Xmbl.Cluster.Benchmarks.Storage;

/// <summary>
/// Persisted grain-state writes per second on SQLite (WAL), side by side in one run: Orleans 10.4.2's AdoNet grain
/// storage on our schema (plain connection string: synchronous=FULL and Microsoft.Data.Sqlite's 150 ms busy retry; and
/// through <see cref="SqliteConnectionSource"/>: synchronous=NORMAL, SQLite's own busy wait), our group-committing
/// <see cref="SqliteGrainStorage"/> (NORMAL and FULL).
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- storage-writes [--writes N] [--grains G] [--bytes B]</c>
/// (defaults 3000, 50, 128). Two parts: at the storage interface (<see cref="IGrainStorage"/>, the runtime's
/// <c>IGrainStateStore</c>), so no grain-call cost is in the figures; then through real Orleans grains in an in-process
/// silo, each call writing its state before it returns. Each part runs one grain writing at a time (each write awaited
/// before the next), then G grains writing concurrently; every write is a versioned (ETag-checked) update, serialized
/// as JSON (<see cref="GrainStateJsonSerializer"/>) for both Orleans providers.
/// </remarks>
public static class GrainStorageWrites
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "storage-writes";

    private const string StorageName = BenchStateGrain.StorageName;

    public static async Task<int> RunAsync(string[] args)
    {
        var writes = BenchArgs.Int(args, "--writes", 3000);
        var grains = BenchArgs.Int(args, "--grains", 50);
        var bytes = BenchArgs.Int(args, "--bytes", 128);
        var payload = new byte[bytes];
        Random.Shared.NextBytes(payload);

        Console.WriteLine($"grain state writes on SQLite (WAL), {writes} writes per run, {bytes}-byte state, {Environment.ProcessorCount} cores");
        using var directory = new TempDirectory("xmbl-bench-storage");

        Console.WriteLine();
        Console.WriteLine("at the storage interface");
        Header(grains);
        foreach (var store in Stores())
        {
            var connectionString = await MigrateAsync(directory, store.File + "-storage");
            await using var source = store.AdoNetSynchronous is { } level ? new SqliteConnectionSource(connectionString, level) : null;
            using var host = await StartSiloAsync(silo => store.Register(silo, connectionString, source));
            var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageName);
            var one = await MeasureAsync(writes, 1, g => StorageWriter(storage, $"one-{g}", payload));
            var many = await MeasureAsync(writes, grains, g => StorageWriter(storage, $"many-{g}", payload));
            Console.WriteLine(Row(store.Label, one, many));
            await host.StopAsync();
        }

        Console.WriteLine();
        Console.WriteLine("through Orleans grains (one call = one state write)");
        Header(grains);
        foreach (var store in Stores().Where(s => s.ThroughGrains))
        {
            var connectionString = await MigrateAsync(directory, store.File + "-grains");
            await using var source = store.AdoNetSynchronous is { } level ? new SqliteConnectionSource(connectionString, level) : null;
            using var host = await StartSiloAsync(silo => store.Register(silo, connectionString, source));
            var factory = host.Services.GetRequiredService<OrleansGrainFactory>();
            var one = await MeasureAsync(writes, 1, g => GrainWriter(factory, $"one-{g}", payload));
            var many = await MeasureAsync(writes, grains, g => GrainWriter(factory, $"many-{g}", payload));
            Console.WriteLine(Row(store.Label, one, many));
            await host.StopAsync();
        }

        return 0;
    }

    private static IEnumerable<Store> Stores()
    {
        yield return new Store("AdoNet, connection string (FULL)", "adonet-full", null, ThroughGrains: false, (silo, cs, _) => AddAdoNet(silo, cs, null));
        yield return new Store("AdoNet, SqliteConnectionSource (NORMAL)", "adonet-normal", SqliteSynchronous.Normal, ThroughGrains: true, (silo, cs, source) => AddAdoNet(silo, cs, source));
        yield return new Store("SqliteGrainStorage, group commit (NORMAL)", "own-normal", null, ThroughGrains: true, (silo, cs, _) => silo.AddSqliteGrainStorage(StorageName, o => o.ConnectionString = cs));
        yield return new Store("SqliteGrainStorage, group commit (FULL)", "own-full", null, ThroughGrains: true, (silo, cs, _) => silo.AddSqliteGrainStorage(StorageName, o =>
        {
            o.ConnectionString = cs;
            o.Synchronous = SqliteSynchronous.Full;
        }));
    }

    private static void AddAdoNet(ISiloBuilder silo, string connectionString, SqliteConnectionSource? source) =>
        silo.AddAdoNetGrainStorage(StorageName, o =>
        {
            o.Invariant = SqliteAdoNet.Invariant;
            o.GrainStorageSerializer = GrainStateJsonSerializer.Default;
            if (source is null)
            {
                o.ConnectionString = connectionString;
            }
            else
            {
                o.DataSource = source;
            }
        });

    private static async Task<string> MigrateAsync(TempDirectory directory, string name)
    {
        var connectionString = $"Data Source={directory.File(name + ".db")}";
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync();
        return connectionString;
    }

    // Each writer is one grain: it writes its state `count` times, each write naming the version it holds.
    private static Func<int, List<long>, Task> StorageWriter(IGrainStorage storage, string key, byte[] payload)
    {
        var id = OrleansGrainId.Create("bench", key);
        var state = new GrainState<BenchState>(new BenchState { Payload = payload });
        return async (count, latencies) =>
        {
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                state.State!.Value = i;
                await storage.WriteStateAsync("bench", id, state);
                latencies.Add(Stopwatch.GetTimestamp() - started);
            }
        };
    }

    private static Func<int, List<long>, Task> GrainWriter(OrleansGrainFactory grains, string key, byte[] payload)
    {
        var grain = grains.GetGrain<IBenchStateGrain>(key);
        return async (count, latencies) =>
        {
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await grain.WriteAsync(i, payload);
                latencies.Add(Stopwatch.GetTimestamp() - started);
            }
        };
    }

    private static void Header(int grains) =>
        Console.WriteLine($"{"store",-44} {"1 grain",12} {grains + " grains",12} {"CPU/write (1, " + grains + ")",22} {"p50/p99 ms (" + grains + ")",18}");

    private static string Row(string label, Result one, Result many) =>
        $"{label,-44} {one.PerSecond,10:N0}/s {many.PerSecond,10:N0}/s {one.CpuMicroseconds,10:N0} µs {many.CpuMicroseconds,6:N0} µs {many.P50Ms,8:N1} / {many.P99Ms:N1}";

    /// <summary>
    /// Runs <paramref name="writes"/> writes spread over <paramref name="grains"/> concurrent writers, after a warm-up:
    /// writes per second, and process CPU time per write (less sensitive than wall time to other load on the machine).
    /// </summary>
    private static async Task<Result> MeasureAsync(int writes, int grains, Func<int, Func<int, List<long>, Task>> writer)
    {
        var writers = Enumerable.Range(0, grains).Select(writer).ToArray();
        await Task.WhenAll(writers.Select(w => Task.Run(() => w(Math.Max(2, 200 / grains), []))));
        var perWriter = Math.Max(1, writes / grains);
        var latencies = writers.Select(_ => new List<long>(perWriter)).ToArray();
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(writers.Select((w, i) => Task.Run(() => w(perWriter, latencies[i]))));
        var elapsed = stopwatch.Elapsed;
        process.Refresh();
        var total = perWriter * grains;
        var sorted = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))] * 1000.0 / Stopwatch.Frequency;
        return new Result(total / elapsed.TotalSeconds, (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / total, Percentile(0.50), Percentile(0.99));
    }

    private readonly record struct Result(double PerSecond, double CpuMicroseconds, double P50Ms, double P99Ms);

    private sealed record Store(string Label, string File, SqliteSynchronous? AdoNetSynchronous, bool ThroughGrains, Action<ISiloBuilder, string, SqliteConnectionSource?> Register);

    private static async Task<IHost> StartSiloAsync(Action<ISiloBuilder> storage)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: TcpPorts.Free(), gatewayPort: TcpPorts.Free());
            storage(silo);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
