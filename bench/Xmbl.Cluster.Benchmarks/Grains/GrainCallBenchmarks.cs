using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Placement;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Testing;
using OrleansGrainFactory = Orleans.IGrainFactory;

namespace Xmbl.Cluster.Benchmarks.Grains;

/// <summary>
/// Orleans grain-call round trip: a no-op call and a state-changing call (a <see cref="DurableGrain{TState}"/> on
/// <c>SqliteGrainStorage</c>, one write per call), each made in-process (the caller runs in the silo that hosts the
/// grain) and across silos (the caller is a second silo in this process, so every call crosses silo A's silo port).
/// </summary>
/// <remarks>
/// Both grains use <see cref="PreferLocalPlacementAttribute"/> and are first activated by a call from silo A, so they
/// live there; the set-up checks that from silo B. Run with <c>--inProcess</c> or the default out-of-process toolchain.
/// </remarks>
[MemoryDiagnoser]
public class GrainCallBenchmarks : IDisposable
{
    private const string StorageName = "bench-calls";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xmbl-bench-calls-" + Guid.NewGuid().ToString("N"));
    private IHost _siloA = null!;
    private IHost _siloB = null!;
    private ICallBenchGrain _noOpLocal = null!;
    private ICallBenchGrain _noOpRemote = null!;
    private IDurableBenchGrain _durableLocal = null!;
    private IDurableBenchGrain _durableRemote = null!;
    private int _value;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var primaryPort = TcpPorts.Free();
        _siloA = StartSilo("a", primaryPort, null);
        _siloB = StartSilo("b", TcpPorts.Free(), new IPEndPoint(IPAddress.Loopback, primaryPort));

        var factoryA = _siloA.Services.GetRequiredService<OrleansGrainFactory>();
        var factoryB = _siloB.Services.GetRequiredService<OrleansGrainFactory>();
        _noOpLocal = factoryA.GetGrain<ICallBenchGrain>(1);
        _durableLocal = factoryA.GetGrain<IDurableBenchGrain>(1);
        var hostA = _noOpLocal.WhereAsync().GetAwaiter().GetResult();
        var durableHost = _durableLocal.WhereAsync().GetAwaiter().GetResult();
        _noOpRemote = factoryB.GetGrain<ICallBenchGrain>(1);
        _durableRemote = factoryB.GetGrain<IDurableBenchGrain>(1);

        // Silo B must not be able to reach the grains without the network.
        var siloB = _siloB.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString();
        if (hostA == siloB || durableHost != hostA || _noOpRemote.WhereAsync().GetAwaiter().GetResult() != hostA)
        {
            throw new InvalidOperationException($"The bench grains are not on silo A ({hostA}, {durableHost}; silo B is {siloB}).");
        }
    }

    [Benchmark(Baseline = true)]
    public Task NoOpInProcess() => _noOpLocal.PingAsync();

    [Benchmark]
    public Task NoOpAcrossSilos() => _noOpRemote.PingAsync();

    [Benchmark]
    public Task DurableInProcess() => _durableLocal.SetAsync(++_value);

    [Benchmark]
    public Task DurableAcrossSilos() => _durableRemote.SetAsync(++_value);

    [GlobalCleanup]
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        foreach (var host in new[] { _siloB, _siloA })
        {
            if (host is null)
            {
                continue;
            }

            host.StopAsync().GetAwaiter().GetResult();
            host.Dispose();
        }

        _siloA = null!;
        _siloB = null!;
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private IHost StartSilo(string name, int siloPort, IPEndPoint? primary)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var connectionString = $"Data Source={Path.Combine(_directory, name + ".db")}";
        new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync().GetAwaiter().GetResult();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: TcpPorts.Free(), primarySiloEndpoint: primary);
            silo.AddSqliteGrainStorage(StorageName, o => o.ConnectionString = connectionString);
        });
        var host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
        return host;
    }

    /// <summary>The durable grain's state: one counter.</summary>
    public sealed class CounterState
    {
        public int Value { get; set; }
    }

    /// <summary>A grain that does nothing; placed where its first caller runs.</summary>
    [PreferLocalPlacement]
    public sealed class CallBenchGrain(ILocalSiloDetails silo) : Grain, ICallBenchGrain
    {
        public Task PingAsync() => Task.CompletedTask;

        public Task<string> WhereAsync() => Task.FromResult(silo.SiloAddress.ToString());
    }

    /// <summary>A durable grain: each call changes the state, which the call filter writes before the call returns.</summary>
    [PreferLocalPlacement]
    public sealed class DurableBenchGrain([PersistentState("counter", StorageName)] IPersistentState<CounterState> state, ILocalSiloDetails silo)
        : DurableGrain<CounterState>(state), IDurableBenchGrain
    {
        public Task SetAsync(int value)
        {
            State.Value = value;
            return Task.CompletedTask;
        }

        public Task<string> WhereAsync() => Task.FromResult(silo.SiloAddress.ToString());
    }
}

/// <summary>The no-op bench grain.</summary>
[Alias("xmbl.bench.ICallBenchGrain")]
public interface ICallBenchGrain : Orleans.IGrainWithIntegerKey
{
    [Alias("Ping")]
    Task PingAsync();

    [Alias("Where")]
    Task<string> WhereAsync();
}

/// <summary>The state-changing bench grain.</summary>
[Alias("xmbl.bench.IDurableBenchGrain")]
public interface IDurableBenchGrain : Orleans.IGrainWithIntegerKey
{
    [Alias("Set")]
    Task SetAsync(int value);

    [ReadOnly]
    [Alias("Where")]
    Task<string> WhereAsync();
}
