using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Ledger;

/// <summary>An embedded silo with the ledger (SQLite in a temp folder), without HTTP; restartable on the same data.</summary>
public sealed class LedgerSilo : IAsyncDisposable
{
    private readonly TempDirectory _data;
    private readonly Func<Task<IHost>> _start;
    private IHost _host;

    private LedgerSilo(TempDirectory data, Func<Task<IHost>> start, IHost host)
    {
        _data = data;
        _start = start;
        _host = host;
    }

    public IServiceProvider Services => _host.Services;

    public LedgerService Ledger => Services.GetRequiredService<LedgerService>();

    public T Grain<T>(string key)
        where T : IGrainWithStringKey => Services.GetRequiredService<IGrainFactory>().GetGrain<T>(key);

    public IAccountGrain Account(string did) => Services.GetRequiredService<IGrainFactory>().GetGrain<IAccountGrain>(did);

    public static async Task<LedgerSilo> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var data = new TempDirectory("xmbl-ledger");
        Task<IHost> Start() => InProcessSilo.StartAsync(
            data.Path,
            new Dictionary<string, string?> { ["Xmbl:Node:Count"] = "1" },
            settings,
            time,
            (builder, silo) =>
            {
                builder.Services.AddLedger(builder.Configuration, silo);
                services?.Invoke(builder.Services);
            });

        try
        {
            return new LedgerSilo(data, Start, await Start());
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Stops the silo and starts it again on the same data, as a process restart would.</summary>
    public async Task RestartAsync()
    {
        await InProcessSilo.StopAsync(_host);
        _host = await _start();
    }

    /// <summary>A fresh account identity.</summary>
    public static string NewAccount()
    {
        using var key = Ed25519KeyPair.Generate();
        return key.PublicKey.Did;
    }

    public async ValueTask DisposeAsync()
    {
        await InProcessSilo.StopAsync(_host);
        _data.Dispose();
    }
}
