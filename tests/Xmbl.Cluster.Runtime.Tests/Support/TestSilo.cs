using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Hosting;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Tests.Support;

/// <summary>Where a test's silos keep their state.</summary>
public abstract record BackendTarget
{
    internal abstract void Apply(IGrainRuntimeBuilder builder);
}

public sealed record SqliteTarget(string Path) : BackendTarget
{
    internal override void Apply(IGrainRuntimeBuilder builder) => builder.UseSqlite(Path);
}

public sealed record PostgresTarget(string ConnectionString) : BackendTarget
{
    internal override void Apply(IGrainRuntimeBuilder builder) => builder.UsePostgres(ConnectionString);
}

/// <summary>One in-process silo host with the test grains, on a given backend and clock.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private bool _stopped;

    private TestSilo(IHost host)
    {
        Host = host;
    }

    public IHost Host { get; }

    public IGrainFactory Factory => Host.Services.GetRequiredService<IGrainFactory>();

    internal GrainRuntime Runtime => Host.Services.GetRequiredService<GrainRuntime>();

    internal GrainRuntimeHostedService Service => Host.Services.GetRequiredService<GrainRuntimeHostedService>();

    internal IPersistenceBackend Backend => Host.Services.GetRequiredService<IPersistenceBackend>();

    public string SiloId => Host.Services.GetRequiredService<IClusterMembership>().LocalSiloId;

    public static async Task<TestSilo> StartAsync(BackendTarget target, TimeProvider? time = null, Action<SiloOptions>? configure = null, TickLog? tickLog = null, CallBarrier? barrier = null)
    {
        var silo = Create(target, time, configure, tickLog, barrier);
        await silo.Host.StartAsync();
        return silo;
    }

    public static TestSilo Create(BackendTarget target, TimeProvider? time = null, Action<SiloOptions>? configure = null, TickLog? tickLog = null, CallBarrier? barrier = null)
    {
        var builder = new HostBuilder().ConfigureServices(services =>
        {
            if (time is not null)
            {
                services.AddSingleton(time);
            }

            services.AddSingleton(tickLog ?? new TickLog());
            services.AddSingleton(barrier ?? new CallBarrier());
            var runtime = services.AddGrainRuntime(o =>
            {
                o.HeartbeatPeriod = TimeSpan.FromSeconds(2);
                o.DeathTimeout = TimeSpan.FromSeconds(10);
                o.ReminderPollPeriod = TimeSpan.FromSeconds(1);
                configure?.Invoke(o);
            });
            target.Apply(runtime);
            runtime.AddGrain<ICounterGrain, CounterGrain>()
                .AddGrain<IAccountGrain, AccountGrain>()
                .AddGrain<IRelayGrain, RelayGrain>()
                .AddGrain<ITickGrain, TickGrain>();
        });
        return new TestSilo(builder.Build());
    }

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await Host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await ((IAsyncDisposable)Host).DisposeAsync();
    }
}
