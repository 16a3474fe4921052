using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Benchmarks.Grains;

/// <summary>
/// Grain calls per second through the whole runtime (proxy, per-key lock, database transaction, JSON state,
/// conditional write), <see cref="Concurrency"/> callers at once, on one hot key or spread over 1,000 keys.
/// Read the result as calls/s = 1 / (Mean per operation). PostgreSQL runs only when XMBL_BENCH_POSTGRES holds a
/// connection string to an empty database (e.g. a throwaway server with fsync=off or synchronous_commit=off).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
public class GrainCallBenchmarks
{
    /// <summary>Calls per benchmark invocation.</summary>
    public const int CallsPerInvoke = 4_000;

    /// <summary>Concurrent callers (like requests in flight on a silo).</summary>
    public const int Concurrency = 64;

    private IHost? _host;
    private IBenchCounterGrain[] _grains = [];
    private string? _directory;
    private long _calls;
    private TimeSpan _cpuAtStart;

    public static IEnumerable<string> Backends =>
        string.IsNullOrEmpty(Environment.GetEnvironmentVariable("XMBL_BENCH_POSTGRES")) ? ["Sqlite"] : ["Sqlite", "Postgres"];

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "Sqlite";

    [Params(1, 1000)]
    public int Keys { get; set; }

    /// <summary>Write = every call changes state (increment); Read = state unchanged, so the write is skipped.</summary>
    [Params("Write", "Read")]
    public string Kind { get; set; } = "Write";

    [GlobalSetup]
    public void Setup()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var runtime = builder.Services.AddGrainRuntime(o => o.ClientOnly = true);
        if (Backend == "Postgres")
        {
            runtime.UsePostgres(Environment.GetEnvironmentVariable("XMBL_BENCH_POSTGRES")!);
        }
        else
        {
            _directory = Path.Combine(Path.GetTempPath(), $"xmbl-bench-{Guid.NewGuid():N}");
            runtime.UseSqlite(Path.Combine(_directory, "grains.db"));
        }

        runtime.AddGrain<IBenchCounterGrain, BenchCounterGrain>();
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
        var factory = _host.Services.GetRequiredService<IGrainFactory>();
        var prefix = Guid.NewGuid().ToString("N")[..8];
        _grains = [.. Enumerable.Range(0, Keys).Select(k => factory.GetGrain<IBenchCounterGrain>($"{prefix}-{k}"))];
        foreach (var grain in _grains)
        {
            grain.IncrementAsync().GetAwaiter().GetResult();
        }

        _calls = 0;
        _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Wall-clock figures depend on what else the machine runs; CPU time per call does not (much). For SQLite it
        // covers the database too (in process); for PostgreSQL only the client side.
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart;
        if (_calls > 0)
        {
            Console.WriteLine($"// GrainCallBenchmarks {Backend}/{Kind}/{Keys} keys: {_calls} calls, process CPU {cpu.TotalMicroseconds / _calls:F1} us/call " +
                $"=> about {Environment.ProcessorCount * 1_000_000 / (cpu.TotalMicroseconds / _calls):F0} calls/s if all {Environment.ProcessorCount} cores were ours");
        }

        if (_host is not null)
        {
            _host.StopAsync().GetAwaiter().GetResult();
            ((IAsyncDisposable)_host).DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>
    /// In-process: the run is dominated by database I/O, so a separate benchmark process buys nothing, and it keeps
    /// the run independent of rebuilding every project the benchmark assembly references.
    /// </summary>
    private sealed class InProcessConfig : ManualConfig
    {
        public InProcessConfig()
        {
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(8));
        }
    }

    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task GrainCallsAsync()
    {
        var workers = new Task[Concurrency];
        var write = Kind == "Write";
        for (var w = 0; w < Concurrency; w++)
        {
            var first = w;
            workers[w] = Task.Run(async () =>
            {
                for (var i = first; i < CallsPerInvoke; i += Concurrency)
                {
                    var grain = _grains[i % _grains.Length];
                    if (write)
                    {
                        await grain.IncrementAsync();
                    }
                    else
                    {
                        await grain.GetAsync();
                    }
                }
            });
        }

        Interlocked.Add(ref _calls, CallsPerInvoke);
        return Task.WhenAll(workers);
    }
}

public interface IBenchCounterGrain : IGrainWithStringKey
{
    Task<long> IncrementAsync();

    Task<long> GetAsync();
}

public sealed class BenchCounterState
{
    public long Value { get; set; }
}

public sealed class BenchCounterGrain : Grain<BenchCounterState>, IBenchCounterGrain
{
    public Task<long> IncrementAsync() => Task.FromResult(++State.Value);

    public Task<long> GetAsync() => Task.FromResult(State.Value);
}
