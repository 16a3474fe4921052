using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;
using Xmbl.Cluster.Testing;
using OrleansGrainId = Orleans.Runtime.GrainId;
using RuntimeGrainId = Xmbl.Cluster.Runtime.Core.GrainId;

namespace Xmbl.Cluster.Benchmarks.Storage;

/// <summary>
/// Persisted grain-state writes per second on SQLite (WAL), side by side: Orleans 10.4.2's AdoNet grain storage on our
/// schema (with a plain connection string: synchronous=FULL and Microsoft.Data.Sqlite's 150 ms busy retry; and through
/// <see cref="SqliteConnectionSource"/>: synchronous=NORMAL, SQLite's own busy wait), and the group-committing store
/// of src/Runtime (synchronous=NORMAL). Each store gets the same writes: one grain
/// writing at a time, then G grains writing concurrently; every write is a versioned (ETag-checked) update.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- storage-writes [--writes N] [--grains G] [--bytes B]</c>
/// (defaults 3000, 50, 128). Measured at the storage interface (<see cref="IGrainStorage"/> against the runtime's
/// <c>IGrainStateStore</c>), so grain-call costs of either runtime are not in the figures.
/// </remarks>
public static class GrainStorageWrites
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "storage-writes";

    public static async Task<int> RunAsync(string[] args)
    {
        var writes = Int(args, "--writes", 3000);
        var grains = Int(args, "--grains", 50);
        var bytes = Int(args, "--bytes", 128);
        var payload = new byte[bytes];
        Random.Shared.NextBytes(payload);

        Console.WriteLine($"grain state writes on SQLite (WAL), {writes} writes per run, {bytes}-byte state, {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"store",-44} {"1 grain",12} {grains + " grains",12} {"CPU/write (1, " + grains + ")",22} {"p50/p99 ms (" + grains + ")",18}");
        using var directory = new TempDirectory("xmbl-bench-storage");

        foreach (var (label, synchronous) in new[] { ("AdoNet, connection string (FULL)", (SqliteSynchronous?)null), ("AdoNet, SqliteConnectionSource (NORMAL)", SqliteSynchronous.Normal) })
        {
            var path = directory.File($"adonet-{(synchronous is null ? "full" : "normal")}.db");
            var connectionString = $"Data Source={path}";
            await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync();
            await using var source = synchronous is { } level ? new SqliteConnectionSource(connectionString, level) : null;
            using var host = await StartSiloAsync(connectionString, source);
            var storage = host.Services.GetRequiredKeyedService<IGrainStorage>("bench");
            var one = await MeasureAsync(writes, 1, (g, ct) => AdoNetWriter(storage, $"one-{g}", payload));
            var many = await MeasureAsync(writes, grains, (g, ct) => AdoNetWriter(storage, $"many-{g}", payload));
            Console.WriteLine(Row(label, one, many));
            await host.StopAsync();
        }

        {
            var backend = new SqliteBackend(directory.File("runtime.db"), 30, TimeProvider.System);
            await backend.InitializeAsync(CancellationToken.None);
            var one = await MeasureAsync(writes, 1, (g, ct) => RuntimeWriter(backend, $"one-{g}", payload));
            var many = await MeasureAsync(writes, grains, (g, ct) => RuntimeWriter(backend, $"many-{g}", payload));
            Console.WriteLine(Row("src/Runtime store, group commit (NORMAL)", one, many));
            await backend.DisposeAsync();
        }

        return 0;
    }

    // Each writer is one grain: it writes its state `count` times, each write naming the version it holds.
    private static Func<int, List<long>, Task> AdoNetWriter(IGrainStorage storage, string key, byte[] payload)
    {
        var id = OrleansGrainId.Create("bench", key);
        var state = new GrainState<byte[]>(payload);
        return async (count, latencies) =>
        {
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await storage.WriteStateAsync("state", id, state);
                latencies.Add(Stopwatch.GetTimestamp() - started);
            }
        };
    }

    private static Func<int, List<long>, Task> RuntimeWriter(SqliteBackend backend, string key, byte[] payload)
    {
        var id = new RuntimeGrainId("bench", key);
        long version = 0;
        return async (count, latencies) =>
        {
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                version = await backend.States.WriteAsync(id, payload, version, CancellationToken.None);
                latencies.Add(Stopwatch.GetTimestamp() - started);
            }
        };
    }

    private static string Row(string label, Result one, Result many) =>
        $"{label,-44} {one.PerSecond,10:N0}/s {many.PerSecond,10:N0}/s {one.CpuMicroseconds,10:N0} µs {many.CpuMicroseconds,6:N0} µs {many.P50Ms,8:N1} / {many.P99Ms:N1}";

    /// <summary>
    /// Runs <paramref name="writes"/> writes spread over <paramref name="grains"/> concurrent writers, after a warm-up:
    /// writes per second, and process CPU time per write (less sensitive than wall time to other load on the machine).
    /// </summary>
    private static async Task<Result> MeasureAsync(int writes, int grains, Func<int, CancellationToken, Func<int, List<long>, Task>> writer)
    {
        var writers = Enumerable.Range(0, grains).Select(g => writer(g, CancellationToken.None)).ToArray();
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

    private static async Task<IHost> StartSiloAsync(string connectionString, SqliteConnectionSource? source)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: TcpPorts.Free(), gatewayPort: TcpPorts.Free());
            silo.AddAdoNetGrainStorage("bench", o =>
            {
                o.Invariant = SqliteAdoNet.Invariant;
                if (source is null)
                {
                    o.ConnectionString = connectionString;
                }
                else
                {
                    o.DataSource = source;
                }
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int Int(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
