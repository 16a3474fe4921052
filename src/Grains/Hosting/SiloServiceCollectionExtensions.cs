using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Runtime;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Hosting;

/// <summary>Composes a silo: the grain runtime on the configured backend, the cluster's grains and this silo's nodes.</summary>
public static class SiloServiceCollectionExtensions
{
    /// <summary>
    /// Adds a silo. With no connection string it runs embedded (SQLite under the data directory, several logical
    /// nodes); with <c>Xmbl:Persistence:ConnectionString</c> it joins a cluster on PostgreSQL as one node.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration (see <see cref="SiloConfiguration"/> for keys).</param>
    /// <param name="address">The silo's base URL, as other members and clients reach it.</param>
    public static SiloSetup AddSilo(this IServiceCollection services, IConfiguration configuration, string address)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var dataDirectory = Path.GetFullPath(configuration[SiloConfiguration.DataDirectoryKey] ?? SiloConfiguration.DefaultDataDirectory);
        Directory.CreateDirectory(dataDirectory);
        var connectionString = configuration[SiloConfiguration.ConnectionStringKey];
        var embedded = string.IsNullOrWhiteSpace(connectionString);

        services.TryAddTimeProvider();
        var runtime = services.AddGrainRuntime(o =>
        {
            o.Address = address;
            if (configuration[SiloConfiguration.SiloIdKey] is { Length: > 0 } siloId)
            {
                o.SiloId = siloId;
            }
        });
        if (embedded)
        {
            runtime.UseSqlite(Path.Combine(dataDirectory, "cluster.db"));
        }
        else
        {
            runtime.UsePostgres(connectionString!);
        }

        runtime.AddClusterGrains();
        runtime.AddComputeGrains();
        services.AddObjectStorage(configuration, embedded);

        services.AddOptions<NodeOptions>()
            .Bind(configuration.GetSection(NodeOptions.SectionName))
            .PostConfigure(o => o.Count ??= embedded ? NodeOptions.DefaultEmbeddedCount : NodeOptions.DefaultClusterCount)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        services.AddSingleton(sp => new LocalNodes(dataDirectory, sp.GetRequiredService<IOptions<NodeOptions>>().Value.Count!.Value));
        services.AddSingleton(sp => new NodeAnnouncement(
            sp.GetRequiredService<IOptions<NodeOptions>>(),
            sp.GetRequiredService<LocalNodes>(),
            address,
            dataDirectory,
            sp.GetServices<INodeLoadReporter>,
            sp.GetService<IWasmEngine>() is { } engine ? (engine.Name, engine.Version) : null));
        services.AddSingleton<NodeDirectory>();
        services.AddSingleton<NodeAnnouncer>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<NodeAnnouncer>());
        return new SiloSetup(dataDirectory, embedded);
    }

    /// <summary>Registers the cluster's grains with the runtime.</summary>
    public static IGrainRuntimeBuilder AddClusterGrains(this IGrainRuntimeBuilder runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        runtime.AddGrain<INodeGrain, NodeGrain>();
        runtime.AddGrain<IObjectGrain, ObjectGrain>();
        runtime.AddGrain<IStorageRepairGrain, StorageRepairGrain>();
        runtime.AddGrain<IStorageUsageGrain, StorageUsageGrain>();
        return runtime;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}

/// <summary>What <see cref="SiloServiceCollectionExtensions.AddSilo"/> decided.</summary>
/// <param name="DataDirectory">The absolute data directory.</param>
/// <param name="Embedded">True for embedded mode (SQLite, logical nodes), false for cluster mode (PostgreSQL).</param>
public sealed record SiloSetup(string DataDirectory, bool Embedded);
