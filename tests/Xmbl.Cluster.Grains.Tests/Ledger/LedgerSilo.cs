using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Hosting;
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

    public IAccountGrain Account(string did) => Services.GetRequiredService<IGrainFactory>().GetGrain<IAccountGrain>(did);

    public static async Task<LedgerSilo> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var data = new TempDirectory("xmbl-ledger");
        async Task<IHost> Start()
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [SiloConfiguration.DataDirectoryKey] = data.Path,
                ["Xmbl:Node:Count"] = "1",
                [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }

            if (time is not null)
            {
                builder.Services.AddKeyedSingleton(ClusterClock.Key, time);
            }

            var silo = builder.Services.AddSilo(builder.Configuration, "http://127.0.0.1:9");
            builder.Services.AddLedger(builder.Configuration, silo);
            services?.Invoke(builder.Services);
            var host = builder.Build();
            await host.StartAsync();
            return host;
        }

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
        await StopAsync(_host);
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
        await StopAsync(_host);
        _data.Dispose();
    }

    private static async Task StopAsync(IHost host)
    {
        await host.StopAsync();
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}
