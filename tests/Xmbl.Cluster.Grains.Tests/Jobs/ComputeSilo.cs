using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>An embedded silo in this process (SQLite in a temp folder, logical nodes, real engine), without HTTP.</summary>
public sealed class ComputeSilo : IAsyncDisposable
{
    private readonly TempDirectory _data;
    private readonly Func<string, Task<IHost>> _start;
    private IHost _host;

    private ComputeSilo(TempDirectory data, Func<string, Task<IHost>> start, IHost host)
    {
        _data = data;
        _start = start;
        _host = host;
    }

    public IServiceProvider Services => _host.Services;

    public JobService Jobs => Services.GetRequiredService<JobService>();

    public ModuleStore Modules => Services.GetRequiredService<ModuleStore>();

    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    /// <summary>The account <see cref="SubmitAsync"/> submits as: funded at start by a mint on its account grain.</summary>
    public string Submitter { get; } = Ledger.LedgerSilo.NewAccount();

    /// <summary>Micro-xmbl.c minted for <see cref="Submitter"/>.</summary>
    public const long Funds = 1_000_000_000_000_000;

    /// <summary>Submits as <see cref="Submitter"/> unless the request names its own submitter.</summary>
    public Task<JobRecord> SubmitAsync(JobRequest request) => Jobs.SubmitAsync(request.Submitter is null ? request with { Submitter = Submitter } : request);

    /// <summary>Starts the silo; <paramref name="time"/> replaces the system clock for everything in it (stores, nodes, runtime).</summary>
    /// <param name="nodes">Logical nodes.</param>
    /// <param name="settings">Configuration on top of the defaults.</param>
    /// <param name="time">The clock.</param>
    /// <param name="services">Replaces services after compute is added (e.g. the job runner).</param>
    public static async Task<ComputeSilo> StartAsync(int nodes, IDictionary<string, string?>? settings = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var data = new TempDirectory("xmbl-compute");
        Task<IHost> Start(string path) => InProcessSilo.StartAsync(
            path,
            new Dictionary<string, string?>
            {
                ["Xmbl:Node:Count"] = nodes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Xmbl:Node:Concurrency"] = "2",
            },
            settings,
            time,
            (builder, silo) =>
            {
                builder.Services.AddCompute(builder.Configuration, silo);
                services?.Invoke(builder.Services);
            });

        try
        {
            var silo = new ComputeSilo(data, Start, await Start(data.Path));
            await silo.Grains.GetGrain<Xmbl.Cluster.Grains.Interfaces.Ledger.IAccountGrain>(silo.Submitter).MintAsync(Funds, 1, (time ?? TimeProvider.System).GetUtcNow());
            return silo;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Stops the silo and starts it again on the same data (grain state, reminders, node keys), as a process restart would.</summary>
    /// <param name="afterCrash">Start as after a crash: its runs ended unreported and no clean-stop marker remains (in
    /// process, the host stops cleanly and the marker is then removed).</param>
    public async Task RestartAsync(bool afterCrash = false)
    {
        await InProcessSilo.StopAsync(_host);
        if (afterCrash)
        {
            File.Delete(Path.Combine(_data.Path, Xmbl.Cluster.Grains.Jobs.Execution.JobExecutorHost.CleanStopMarker));
        }

        _host = await _start(_data.Path);
    }

    public static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", name));

    public async Task<string> UploadAsync(string fixture) => (await Modules.AddAsync(Fixture(fixture))).Hash;

    /// <summary>Waits for the job's final record by following its change notifications.</summary>
    public async Task<JobRecord> WaitAsync(string id, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        JobRecord? last = null;
        await foreach (var record in Jobs.WatchAsync(id, cts.Token))
        {
            last = record;
        }

        Assert.True(last is { IsFinal: true }, $"job {id} did not finish: {last?.Status}");
        return last!;
    }

    public async ValueTask DisposeAsync()
    {
        await InProcessSilo.StopAsync(_host);
        _data.Dispose();
    }
}
