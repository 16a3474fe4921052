using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Hosting;

/// <summary>Registers erasure-coded object storage: a shard store per local node, the shard transport, objects and repair.</summary>
public static class ObjectStorageServiceCollectionExtensions
{
    /// <summary>
    /// Adds object storage. Embedded silos reach every node in-process; cluster silos reach other silos' nodes over signed
    /// HTTP. The <c>Xmbl:Storage</c> sections other than the object options are bound from the host's
    /// <see cref="IConfiguration"/> by Storage's <c>AddShardStore</c> and <c>AddHttpShardTransport</c>.
    /// </summary>
    public static IServiceCollection AddObjectStorage(this IServiceCollection services, IConfiguration configuration, bool embedded)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ObjectStorageOptions>().Bind(configuration.GetSection(ObjectStorageOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ObjectStorageOptions>, ObjectStorageOptionsValidator>();
        services.AddOptions<StoragePolicyOptions>()
            .PostConfigure(o =>
            {
                // No policy configured: every namespace is open to everyone (the zero-configuration default).
                if (o.Namespaces.Count == 0)
                {
                    o.Namespaces.Add(NamespacePolicy.MeshGlobal("*", ownerAccount: "", new AccessGrant("*", ObjectOperations.All)));
                }
            });

        // The stores own the registry, so whoever asks for the registry gets it filled with every local node. Registered
        // before AddShardStore, which then keeps it and adds the pipeline (writer, reader, repairer) with the host's
        // loggers and the Xmbl:Storage options (bound and validated there).
        services.AddSingleton<NodeShardStores>();
        services.AddSingleton(sp => sp.GetRequiredService<NodeShardStores>().Registry);
        services.AddSingleton<Grains.Nodes.INodeLoadReporter>(sp => sp.GetRequiredService<NodeShardStores>());
        services.AddSingleton(_ => new StaticShardNodeResolver());
        services.AddSingleton<IShardNodeResolver>(sp => sp.GetRequiredService<StaticShardNodeResolver>());
        // Shards found altered cost their holders reputation; placement skips nodes below the scheduler's minimum.
        services.AddSingleton<ShardHolderReputation>();
        services.AddSingleton<Xmbl.Cluster.Storage.Objects.ICorruptShardObserver>(sp => sp.GetRequiredService<ShardHolderReputation>());

        services.AddShardStore();
        if (!embedded)
        {
            services.AddHttpShardTransport();
        }

        services.AddSingleton<ObjectService>();
        services.AddSingleton<StorageRepairService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<StorageRepairService>());
        return services;
    }
}
