using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Services;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Testing;
using TaskStatus = Xmbl.Cluster.Grains.Interfaces.Services.TaskStatus;

namespace Xmbl.Cluster.Benchmarks.Jobs;

/// <summary>
/// Task start latency (not a BenchmarkDotNet micro-benchmark): an embedded silo in this process with K logical nodes and
/// the service library, one published service (the upper-casing fixture), then N task requests. Measures, per task,
/// the time from the request to task_start (inputs checked, every eligible node asked for its fitness on its silo, the
/// answers gathered, the job submitted to the winner), and the tasks started and delivered per second.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- tasks [--tasks N] [--clients C] [--nodes K]</c>.
/// The latency phase runs one client (so the figure is the path's own, not a queue's); the throughput phase runs C
/// clients and waits until every task is delivered.
/// </remarks>
public static class TaskStart
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "tasks";

    public static async Task<int> RunAsync(string[] args)
    {
        var tasks = BenchArgs.Int(args, "--tasks", 500);
        var clients = BenchArgs.Int(args, "--clients", 8);
        var nodes = BenchArgs.Int(args, "--nodes", 5);

        using var data = new TempDirectory("xmbl-bench-tasks");
        var host = await StartSiloAsync(data.Path, nodes);
        try
        {
            using var author = Ed25519KeyPair.Generate();
            var library = host.Services.GetRequiredService<ServiceLibrary>();
            await library.PublishAsync(Package(author), author.PublicKey.Did, CancellationToken.None);
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            using var recipient = Ed25519KeyPair.Generate();
            await grains.GetGrain<Xmbl.Cluster.Grains.Interfaces.Ledger.IAccountGrain>(recipient.PublicKey.Did).MintAsync(1_000_000_000_000_000, 1, DateTimeOffset.UtcNow);
            var submission = new TaskSubmission("org.example.benchupper", "1.0.0", """{"text":"hello"}""", "results/bench/", [], recipient.PublicKey.Did, null);

            // The scheduler's first registry refresh, then a warm-up (JIT, the package cache, compiled modules).
            await Task.Delay(TimeSpan.FromSeconds(2));
            await RunAsync(grains, submission, Math.Min(200, tasks), clients, waitForDelivery: true);

            var latencies = await RunAsync(grains, submission, tasks, 1, waitForDelivery: false);
            Console.WriteLine($"mode:        embedded (SQLite), {nodes} logical nodes, {Environment.ProcessorCount} cores");
            Console.WriteLine($"start:       p50 {BenchArgs.Percentile(latencies, 0.50):F2} ms, p90 {BenchArgs.Percentile(latencies, 0.90):F2} ms, p99 {BenchArgs.Percentile(latencies, 0.99):F2} ms (POST to task_start, {tasks} tasks, one client)");

            var started = Stopwatch.GetTimestamp();
            var loaded = await RunAsync(grains, submission, tasks, clients, waitForDelivery: false);
            var startElapsed = Stopwatch.GetElapsedTime(started);
            Console.WriteLine($"started:     {tasks / startElapsed.TotalSeconds:F0} tasks/s with {clients} clients (p50 {BenchArgs.Percentile(loaded, 0.50):F2} ms, p99 {BenchArgs.Percentile(loaded, 0.99):F2} ms)");

            started = Stopwatch.GetTimestamp();
            await RunAsync(grains, submission, tasks, clients, waitForDelivery: true);
            var endElapsed = Stopwatch.GetElapsedTime(started);
            Console.WriteLine($"delivered:   {tasks / endElapsed.TotalSeconds:F0} tasks/s with {clients} clients (request to validated, outputs stored)");
            return 0;
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    /// <summary>Submits <paramref name="tasks"/> tasks from <paramref name="clients"/> clients; returns each start latency (ms), sorted.</summary>
    private static async Task<double[]> RunAsync(IGrainFactory grains, TaskSubmission submission, int tasks, int clients, bool waitForDelivery)
    {
        var next = -1;
        var latencies = new double[tasks];
        var workers = Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < tasks)
            {
                var grain = grains.GetGrain<ITaskGrain>(JobIds.New(DateTimeOffset.UtcNow));
                var start = Stopwatch.GetTimestamp();
                var result = await grain.SubmitAsync(submission);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (result.Refusal != TaskRefusal.None)
                {
                    throw new InvalidOperationException($"Task refused: {result.Refusal} {result.Detail}");
                }

                while (waitForDelivery && (await grain.GetAsync())!.Status == TaskStatus.Started)
                {
                    await Task.Delay(5);
                }
            }
        });
        await Task.WhenAll(workers);
        Array.Sort(latencies);
        return latencies;
    }

    private static byte[] Package(Ed25519KeyPair author)
    {
        var manifest = new ServiceManifest
        {
            PackageId = "org.example.benchupper",
            Version = "1.0.0",
            ServiceType = "utility",
            Author = author.PublicKey.Did,
            RuntimeRequired = ["wasm"],
            DeviceProfile = "budget",
            ResourceRequirements = new ResourceRequirements { MinMemoryMB = 1, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1 },
            PlatformSupport = ["linux"],
            Inputs = [new ServiceInput { Name = "text", Type = ServiceValueType.String }],
            Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String, FileType = "txt" }],
            Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module)],
            Entry = "modules/main.wasm",
        };
        return PackageWriter.Write(manifest, new Dictionary<string, byte[]> { ["modules/main.wasm"] = Fixture("service_upper.wasm") }, author);
    }

    private static byte[] Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "wasm", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        throw new FileNotFoundException($"tests/fixtures/wasm/{name} not found above {AppContext.BaseDirectory}");
    }

    private static async Task<IHost> StartSiloAsync(string dataDirectory, int nodes)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [SiloConfiguration.DataDirectoryKey] = dataDirectory,
            ["Xmbl:Node:Count"] = nodes.ToString(CultureInfo.InvariantCulture),
            ["Xmbl:Silo:SiloId"] = "bench-tasks",
            [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(CultureInfo.InvariantCulture),
            [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var silo = builder.Services.AddSilo(builder.Configuration, "http://127.0.0.1:9100");
        builder.Services.AddCompute(builder.Configuration, silo);
        builder.Services.AddServiceLibrary(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
