using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests;

/// <summary>Starts and stops an embedded silo in this process (no HTTP), the way the test silos of this project need.</summary>
internal static class InProcessSilo
{
    /// <summary>Builds and starts a silo on <paramref name="dataPath"/> with free Orleans ports.</summary>
    /// <param name="dataPath">The data directory (reused across restarts).</param>
    /// <param name="defaults">Configuration under <paramref name="settings"/> (e.g. the node count).</param>
    /// <param name="settings">The test's configuration on top.</param>
    /// <param name="time">The cluster's clock, or null for the system clock.</param>
    /// <param name="compose">Adds what the silo hosts beside its grains (compute, the ledger), then the test's replacements.</param>
    public static async Task<IHost> StartAsync(
        string dataPath,
        IDictionary<string, string?> defaults,
        IDictionary<string, string?>? settings,
        TimeProvider? time,
        Action<HostApplicationBuilder, SiloSetup> compose)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(defaults)
        {
            [SiloConfiguration.DataDirectoryKey] = dataPath,
            [SiloConfiguration.SiloPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [SiloConfiguration.GatewayPortKey] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        if (time is not null)
        {
            // Keyed: the cluster's logic runs on the test clock, Orleans' own timers on the system clock.
            builder.Services.AddKeyedSingleton(ClusterClock.Key, time);
        }

        var silo = builder.Services.AddSilo(builder.Configuration, "http://127.0.0.1:9");
        compose(builder, silo);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Stops the silo and disposes it asynchronously (Orleans' services are only async-disposable).</summary>
    public static async Task StopAsync(IHost host)
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
