using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Benchmarks.Ledger;

/// <summary>
/// Ledger transfers per second on PostgreSQL: account grains in one in-process silo (no HTTP, no signatures: the
/// ledger's own rate), A accounts each sending T transfers in nonce order, all accounts at once, as the
/// <c>LedgerPostgres</c> test does, with its checks (every balance as the accepted transfers predict, nothing owed,
/// the supply unchanged).
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- transfers [--accounts A] [--per-account T] [--rounds R]</c>
/// (defaults 200, 10, 3). Starts its own PostgreSQL (initdb in a temporary directory, as the tests do). Each round uses
/// fresh accounts; the first round also warms the silo up. Prints per round the rate, the process CPU per transfer and
/// the latency percentiles. <c>bench/ledger/compare.sh</c> runs it against another build of the code, alternating.
/// </remarks>
public static class TransferThroughput
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "transfers";

    private const long Xmbl = 1_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var accounts = BenchArgs.Int(args, "--accounts", 200);
        var perAccount = BenchArgs.Int(args, "--per-account", 10);
        var rounds = BenchArgs.Int(args, "--rounds", 3);
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        using var data = new TempDirectory("xmbl-bench-ledger");
        using var host = await StartSiloAsync(data.Path, database);
        var ledger = host.Services.GetRequiredService<LedgerService>();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        Console.WriteLine($"ledger transfers on PostgreSQL, one silo, {accounts} accounts x {perAccount} transfers per round, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine($"{"round",5} {"made",6} {"refused",8} {"seconds",8} {"transfers/s",12} {"CPU ms/transfer",16} {"PG CPU ms/transfer",19} {"p50 ms",8} {"p99 ms",8}");
        for (var round = 1; round <= rounds; round++)
        {
            var dids = Enumerable.Range(0, accounts).Select(_ => NewAccount()).ToArray();
            await Task.WhenAll(dids.Select(d => ledger.FaucetAsync(d, 100 * Xmbl)));
            var expected = Enumerable.Repeat(100 * Xmbl, accounts).ToArray();
            var latencies = new long[accounts * perAccount];
            var done = 0;
            var refused = 0;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var pgCpu = PostgresCpuMs(postgres.Port);
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, accounts).Select(async from =>
            {
                var random = new Random(from);
                for (var nonce = 1; nonce <= perAccount; nonce++)
                {
                    var to = (from + 1 + random.Next(accounts - 1)) % accounts;
                    var amount = 1 + random.NextInt64(30 * Xmbl);
                    var started = Stopwatch.GetTimestamp();
                    var outcome = await ledger.TransferAsync(dids[from], dids[to], amount, nonce);
                    latencies[(from * perAccount) + nonce - 1] = Stopwatch.GetTimestamp() - started;
                    if (outcome.Refusal == LedgerRefusal.Done)
                    {
                        Interlocked.Add(ref expected[from], -amount);
                        Interlocked.Add(ref expected[to], amount);
                        Interlocked.Increment(ref done);
                    }
                    else if (outcome.Refusal == LedgerRefusal.InsufficientFunds)
                    {
                        Interlocked.Increment(ref refused);
                    }
                    else
                    {
                        throw new InvalidOperationException($"Transfer refused: {outcome.Refusal}.");
                    }
                }
            }));
            clock.Stop();
            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            var pgCpuMs = PostgresCpuMs(postgres.Port) - pgCpu;
            Array.Sort(latencies);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} {done,6} {refused,8} {clock.Elapsed.TotalSeconds,8:F2} {done / clock.Elapsed.TotalSeconds,12:F0} {cpuMs / done,16:F2} {pgCpuMs / done,19:F2} {Ms(latencies, 0.5),8:F1} {Ms(latencies, 0.99),8:F1}"));
            await CheckAsync(grains, dids, expected);
        }

        Console.WriteLine($"load average after: {LoadAverage()}");
        await host.StopAsync();
        return 0;
    }

    /// <summary>Every balance as the accepted transfers predict, nothing owed, the supply unchanged; throws otherwise.</summary>
    private static async Task CheckAsync(IGrainFactory grains, string[] dids, long[] expected)
    {
        long total = 0;
        for (var i = 0; i < dids.Length; i++)
        {
            var account = grains.GetGrain<IAccountGrain>(dids[i]);
            if (!await account.DeliverPendingAsync())
            {
                throw new InvalidOperationException($"{dids[i]} still owes credits.");
            }

            var snapshot = await account.GetAsync();
            if (snapshot.Balance != expected[i])
            {
                throw new InvalidOperationException($"{dids[i]}: balance {snapshot.Balance}, expected {expected[i]}.");
            }

            total += snapshot.Balance;
        }

        if (total != dids.Length * 100 * Xmbl)
        {
            throw new InvalidOperationException($"Supply {total}, expected {dids.Length * 100 * Xmbl}.");
        }
    }

    private static async Task<IHost> StartSiloAsync(string dataDirectory, string connectionString)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [SiloConfiguration.DataDirectoryKey] = dataDirectory,
            [SiloConfiguration.ConnectionStringKey] = connectionString,
            [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(CultureInfo.InvariantCulture),
            [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(CultureInfo.InvariantCulture),
            ["Xmbl:Node:Count"] = "1",
            ["Xmbl:Ledger:Faucet:Enabled"] = "true",
            ["Xmbl:Storage:Transport:ClusterSecret"] = "bench-cluster-secret-0123456789",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var silo = builder.Services.AddSilo(builder.Configuration, "http://127.0.0.1:9");
        builder.Services.AddLedger(builder.Configuration, silo);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>
    /// CPU time of the bench's PostgreSQL server so far (its postmaster and the backends it forked, from /proc; backends
    /// live as long as the pooled connections, so a round's difference is its PostgreSQL work). NaN where /proc is missing.
    /// </summary>
    private static double PostgresCpuMs(int port)
    {
        if (!Directory.Exists("/proc"))
        {
            return double.NaN;
        }

        var stats = new List<(int Pid, int Parent, long Ticks)>();
        int? postmaster = null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                stats.Add((pid, int.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)));
                if (stat.Contains("(postgres)", StringComparison.Ordinal) && File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Contains($"-p {port} ", StringComparison.Ordinal))
                {
                    postmaster = pid;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended meanwhile.
            }
        }

        // Clock ticks are 100 per second on Linux.
        return postmaster is { } p ? stats.Where(s => s.Pid == p || s.Parent == p).Sum(s => s.Ticks) * 10.0 : double.NaN;
    }

    private static string NewAccount()
    {
        using var key = Ed25519KeyPair.Generate();
        return key.PublicKey.Did;
    }

    private static double Ms(long[] sorted, double p) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)] * 1000.0 / Stopwatch.Frequency;

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
