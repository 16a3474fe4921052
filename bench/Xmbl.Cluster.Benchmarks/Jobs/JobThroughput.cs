using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Benchmarks.Jobs;

/// <summary>
/// Load run of the job pipeline (not a BenchmarkDotNet micro-benchmark): silos hosted in this process, a tiny WASI
/// module, N jobs with one validator each submitted by C concurrent clients; reports validated jobs per second and
/// submit-to-validated latency percentiles (from the job records' CreatedAt/ValidatedAt).
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- jobs [--jobs N] [--clients C] [--nodes K] [--validators V] [--concurrency PER_NODE] [--postgres auto|CONNSTR] [--silos S] [--signing off|on|both] [--engine wasmtime|managed]</c>.
/// Embedded: one silo on SQLite with K logical nodes. With <c>--postgres</c>: S silos (one node each) on one database;
/// <c>auto</c> starts a throwaway server (needs PostgreSQL binaries). <c>--signing on</c> makes each client sign its
/// submission (its own key) and the gateway's verifier check it, as over HTTP (body hash, signature, nonce); the HTTP
/// path itself stays out, as for unsigned runs. <c>both</c> measures unsigned, signed, unsigned, signed in one process.
/// </remarks>
public static class JobThroughput
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "jobs";

    /// <summary>tiny.wat compiled with wat2wasm: writes "ok\n" to stdout.</summary>
    private static readonly byte[] TinyModule = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x02, 0x23, 0x01, 0x16, 0x77, 0x61, 0x73, 0x69, 0x5f, 0x73, 0x6e, 0x61, 0x70, 0x73, 0x68, 0x6f, 0x74, 0x5f, 0x70, 0x72, 0x65, 0x76, 0x69, 0x65, 0x77, 0x31, 0x08, 0x66, 0x64, 0x5f, 0x77, 0x72, 0x69, 0x74, 0x65, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x13, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x01, 0x0a, 0x1d, 0x01, 0x1b, 0x00, 0x41, 0x00, 0x41, 0x10, 0x36, 0x02, 0x00, 0x41, 0x04, 0x41, 0x03, 0x36, 0x02, 0x00, 0x41, 0x01, 0x41, 0x00, 0x41, 0x01, 0x41, 0x08, 0x10, 0x00, 0x1a, 0x0b, 0x0b, 0x09, 0x01, 0x00, 0x41, 0x10, 0x0b, 0x03, 0x6f, 0x6b, 0x0a];

    public static async Task<int> RunAsync(string[] args)
    {
        var jobs = BenchArgs.Int(args, "--jobs", 2000);
        var clients = BenchArgs.Int(args, "--clients", 32);
        var nodes = BenchArgs.Int(args, "--nodes", 5);
        var validators = BenchArgs.Int(args, "--validators", 1);
        var silos = BenchArgs.Int(args, "--silos", 3);
        var postgres = BenchArgs.Text(args, "--postgres");
        var concurrency = BenchArgs.Text(args, "--concurrency");
        var signing = BenchArgs.Text(args, "--signing") ?? "off";
        if (signing is not ("off" or "on" or "both"))
        {
            Console.Error.WriteLine("--signing is off, on or both.");
            return 2;
        }
        var engine = BenchArgs.Text(args, "--engine");

        PostgresServer? server = null;
        string? connectionString = null;
        if (postgres is not null)
        {
            if (postgres == "auto")
            {
                server = await PostgresServer.StartAsync();
                connectionString = await server.CreateDatabaseAsync();
            }
            else
            {
                connectionString = postgres;
            }
        }
        else
        {
            silos = 1;
        }

        using var data = new TempDirectory("xmbl-bench-jobs");
        var hosts = new List<IHost>();
        try
        {
            for (var i = 0; i < silos; i++)
            {
                hosts.Add(await StartSiloAsync(Path.Combine(data.Path, $"silo-{i}"), connectionString, i, connectionString is null ? nodes : 1, concurrency, engine));
            }

            var services = hosts.Select(h => h.Services.GetRequiredService<JobService>()).ToArray();
            var hash = (await hosts[0].Services.GetRequiredService<Xmbl.Cluster.Grains.Jobs.Modules.ModuleStore>().AddAsync(TinyModule)).Hash;

            // The gateway's verifier with its default window and nonce memory; one key per client.
            var verifier = new RequestVerifier(TimeSpan.FromMinutes(5), 100_000);
            var keys = Enumerable.Range(0, clients).Select(_ => Ed25519KeyPair.Generate()).ToArray();
            var signers = keys.Select(k => new RequestSigner(k)).ToArray();

            // Each client submits as its own account (jobs hold their price in escrow), funded by a mint.
            var submitters = keys.Select(k => k.PublicKey.Did).ToArray();
            var grains = hosts[0].Services.GetRequiredService<IGrainFactory>();
            foreach (var submitter in submitters)
            {
                await grains.GetGrain<Xmbl.Cluster.Grains.Interfaces.Ledger.IAccountGrain>(submitter).MintAsync(1_000_000_000_000_000, 1, DateTimeOffset.UtcNow);
            }
            var modes = signing switch { "on" => new[] { true }, "both" => [false, true, false, true], _ => [false] };

            // Warm-up: JIT (including tier-1 recompilation of the hot paths), compiled-module caches, connection pools.
            foreach (var signed in modes.Distinct())
            {
                await RunBatchAsync(services, hash, submitters, Math.Min(1500, jobs), clients, validators, signed ? (signers, verifier) : null);
            }

            var mode = connectionString is null ? $"embedded (SQLite), {nodes} logical nodes" : $"PostgreSQL, {silos} silos x 1 node";
            Console.WriteLine($"mode:        {mode}, engine {engine ?? WasmEngineNames.Default}");
            Console.WriteLine($"jobs:        {jobs} with {validators} validator(s), {clients} concurrent clients, {Environment.ProcessorCount} cores");
            var failedAny = false;
            foreach (var signed in modes)
            {
                failedAny |= await MeasureAsync(services, hash, submitters, jobs, clients, validators, signed ? (signers, verifier) : null);
            }

            foreach (var key in keys)
            {
                key.Dispose();
            }

            return failedAny ? 1 : 0;
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync();
                host.Dispose();
            }

            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>One measured batch; prints its figures and returns whether any job did not settle.</summary>
    private static async Task<bool> MeasureAsync(JobService[] services, string hash, string[] submitters, int jobs, int clients, int validators, (RequestSigner[] Signers, RequestVerifier Verifier)? signing)
    {
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var (records, signingTicks) = await RunBatchAsync(services, hash, submitters, jobs, clients, validators, signing);
        var elapsed = Stopwatch.GetElapsedTime(started);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;

        var failed = records.Count(r => r.Status != JobStatus.Settled);
        var latencies = records.Where(r => r.ValidatedAt is not null).Select(r => (r.ValidatedAt!.Value - r.CreatedAt).TotalMilliseconds).Order().ToArray();
        Console.WriteLine(signing is null
            ? "-- unsigned submissions"
            : $"-- signed submissions: {Stopwatch.GetElapsedTime(0, signingTicks).TotalMicroseconds / jobs:F1} µs per job signing and verifying (wall time inside the clients)");
        Console.WriteLine($"throughput:  {(jobs - failed) / elapsed.TotalSeconds:F0} validated jobs/s ({elapsed.TotalSeconds:F2} s)");
        // CPU time per job is what the load on a shared machine distorts least.
        Console.WriteLine($"cpu:         {cpu.TotalMilliseconds / jobs:F2} ms per job (whole process: silos and clients), {cpu / elapsed:F2} cores busy");
        Console.WriteLine($"latency:     p50 {BenchArgs.Percentile(latencies, 0.50):F2} ms, p90 {BenchArgs.Percentile(latencies, 0.90):F2} ms, p99 {BenchArgs.Percentile(latencies, 0.99):F2} ms (submit to validated)");
        // Where the time goes, from the records: placement and execution, validation, settlement.
        var settled = records.Where(r => r.ExecutedAt is not null && r.ValidatedAt is not null && r.FinishedAt is not null).ToList();
        double P50(Func<JobRecord, TimeSpan> span) => BenchArgs.Percentile([.. settled.Select(r => span(r).TotalMilliseconds).Order()], 0.5);
        Console.WriteLine($"breakdown:   p50 submit->executed {P50(r => r.ExecutedAt!.Value - r.CreatedAt):F2} ms, executed->validated {P50(r => r.ValidatedAt!.Value - r.ExecutedAt!.Value):F2} ms, validated->settled {P50(r => r.FinishedAt!.Value - r.ValidatedAt!.Value):F2} ms");
        var runs = settled.SelectMany(r => r.Assignments).Where(a => a.ReportedAt is not null).Select(a => (a.ReportedAt!.Value - a.AssignedAt).TotalMilliseconds).Order().ToArray();
        Console.WriteLine($"assignments: p50 assigned->reported {BenchArgs.Percentile(runs, 0.5):F2} ms, p99 {BenchArgs.Percentile(runs, 0.99):F2} ms");
        Console.WriteLine($"not settled: {failed}");
        return failed != 0;
    }

    private static async Task<(List<JobRecord> Records, long SigningTicks)> RunBatchAsync(JobService[] services, string hash, string[] submitters, int jobs, int clients, int validators, (RequestSigner[] Signers, RequestVerifier Verifier)? signing)
    {
        var next = -1;
        long signingTicks = 0;
        var results = new JobRecord[jobs];
        var body = Encoding.UTF8.GetBytes($"{{\"module\":\"{hash}\",\"validators\":{validators}}}");
        var workers = Enumerable.Range(0, clients).Select(async client =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < jobs)
            {
                var service = services[i % services.Length];
                if (signing is var (signers, verifier))
                {
                    // What the client and the gateway do per submission: hash and sign; hash, verify, remember the nonce.
                    var start = Stopwatch.GetTimestamp();
                    var headers = signers[client].Sign("POST", "/api/jobs", RequestSigner.HashBody(body));
                    if (RequestSigner.HashBody(body) != headers.ContentSha256 || !verifier.Verify("POST", "/api/jobs", headers).IsValid)
                    {
                        throw new InvalidOperationException("The bench's own signature was refused.");
                    }

                    Interlocked.Add(ref signingTicks, Stopwatch.GetTimestamp() - start);
                }

                var submitted = await service.SubmitAsync(new JobRequest(hash, Validators: validators, Submitter: submitters[client]));
                JobRecord last = submitted;
                await foreach (var record in service.WatchAsync(submitted.Id))
                {
                    last = record;
                }

                results[i] = last;
            }
        });
        await Task.WhenAll(workers);
        return ([.. results], signingTicks);
    }

    private static async Task<IHost> StartSiloAsync(string dataDirectory, string? connectionString, int index, int nodes, string? concurrency, string? engine)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            [SiloConfiguration.DataDirectoryKey] = dataDirectory,
            ["Xmbl:Node:Count"] = nodes.ToString(CultureInfo.InvariantCulture),
            ["Xmbl:Silo:SiloId"] = $"bench-{index}",
            // Each silo of the process its own ports: on one address, silos sharing a port declare each other dead.
            [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(CultureInfo.InvariantCulture),
            [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(CultureInfo.InvariantCulture),
        };
        if (concurrency is not null)
        {
            settings["Xmbl:Node:Concurrency"] = concurrency;
        }

        if (engine is not null)
        {
            settings["Xmbl:Compute:Engine"] = engine;
        }

        if (connectionString is not null)
        {
            settings[SiloConfiguration.ConnectionStringKey] = connectionString;
            settings["Xmbl:Storage:Transport:ClusterSecret"] = "bench-cluster-secret-0123456789";
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var silo = builder.Services.AddSilo(builder.Configuration, $"http://127.0.0.1:{9000 + index}");
        builder.Services.AddCompute(builder.Configuration, silo);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
