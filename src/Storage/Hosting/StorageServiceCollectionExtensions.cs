using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the shard store, the shard transport and the object pipeline.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Adds this node's shard store and the object pipeline: <see cref="StorageOptions"/> (bound from
    /// <c>Xmbl:Storage</c> and validated at startup), a <see cref="ShardNodeRegistry"/> hosting the store as
    /// <see cref="StorageOptions.NodeId"/> (when volumes are configured) plus any <see cref="AddShardNode(IServiceCollection, string, StorageVolumeOptions[])"/>
    /// nodes, <see cref="IShardStore"/>, a local <see cref="IShardClient"/> (replaced by <see cref="AddHttpShardTransport"/>),
    /// <see cref="StripeBufferPool"/>, <see cref="IPlacementPolicy"/>, <see cref="ObjectWriter"/>, <see cref="ObjectReader"/>,
    /// <see cref="ObjectRepairer"/> and <see cref="StoragePolicyEvaluator"/> (policies bound from <c>Xmbl:Storage:Policies</c>).
    /// </summary>
    public static IServiceCollection AddShardStore(this IServiceCollection services, Action<StorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<StorageOptions>().BindIfConfigured(StorageOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.AddOptions<StoragePolicyOptions>().BindIfConfigured(StoragePolicyOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var time = Xmbl.Cluster.ClusterClock.From(sp);
            var registry = new ShardNodeRegistry();
            if (storage.Volumes.Count > 0)
            {
                registry.Add(storage.NodeId, new LocalShardStore(storage, time, sp.GetService<ILogger<LocalShardStore>>()));
            }

            foreach (var node in sp.GetServices<ShardNodeDefinition>())
            {
                registry.Add(node.NodeId, new LocalShardStore(node.Volumes, node.IndexPath, time, sp.GetService<ILogger<LocalShardStore>>()));
            }

            return registry;
        });
        services.TryAddSingleton<IShardStore>(sp =>
        {
            var nodeId = sp.GetRequiredService<IOptions<StorageOptions>>().Value.NodeId;
            return sp.GetRequiredService<ShardNodeRegistry>().TryGet(nodeId, out var store)
                ? store
                : throw new InvalidOperationException($"No shard store is configured for node '{nodeId}': add a volume under {StorageOptions.SectionName}:Volumes or call AddStorageVolume.");
        });
        services.TryAddSingleton<IShardClient>(sp => new LocalShardClient(sp.GetRequiredService<ShardNodeRegistry>()));
        services.TryAddSingleton(_ => new StripeBufferPool());
        services.TryAddSingleton<IPlacementPolicy>(DefaultPlacementPolicy.Instance);
        services.TryAddSingleton(sp => new ObjectWriter(
            sp.GetRequiredService<IShardClient>(),
            sp.GetRequiredService<StripeBufferPool>(),
            sp.GetRequiredService<IPlacementPolicy>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            Xmbl.Cluster.ClusterClock.From(sp),
            sp.GetService<ILogger<ObjectWriter>>(),
            sp.GetService<ICorruptShardObserver>()));
        services.TryAddSingleton(sp => new ObjectReader(
            sp.GetRequiredService<IShardClient>(),
            sp.GetRequiredService<StripeBufferPool>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            sp.GetService<ILogger<ObjectReader>>(),
            sp.GetService<ICorruptShardObserver>()));
        services.TryAddSingleton(sp => new ObjectRepairer(
            sp.GetRequiredService<IShardClient>(),
            sp.GetRequiredService<StripeBufferPool>(),
            sp.GetRequiredService<IPlacementPolicy>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            sp.GetService<ILogger<ObjectRepairer>>(),
            sp.GetService<ICorruptShardObserver>()));
        services.TryAddSingleton(sp => new StoragePolicyEvaluator(
            sp.GetRequiredService<IOptions<StoragePolicyOptions>>().Value,
            sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        return services;
    }

    /// <summary>Adds a volume (directory) to this node's shard store.</summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The volume's unique name.</param>
    /// <param name="path">Its directory.</param>
    /// <param name="capacityBytes">The most bytes it may hold; 0 for the file system's free space.</param>
    public static IServiceCollection AddStorageVolume(this IServiceCollection services, string name, string path, long capacityBytes = 0) =>
        services.AddStorageVolume(name, v =>
        {
            v.Path = path;
            v.CapacityBytes = capacityBytes;
        });

    /// <summary>Adds a volume to this node's shard store, configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddStorageVolume(this IServiceCollection services, string name, Action<StorageVolumeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure<StorageOptions>(o =>
        {
            var volume = new StorageVolumeOptions { Name = name };
            configure(volume);
            o.Volumes.Add(volume);
        });
        return services;
    }

    /// <summary>Hosts one more logical node with its own shard store in this process (embedded mode runs several).</summary>
    /// <param name="services">The services.</param>
    /// <param name="nodeId">The logical node's id.</param>
    /// <param name="volumes">Its volumes; its index goes in the first one.</param>
    public static IServiceCollection AddShardNode(this IServiceCollection services, string nodeId, params StorageVolumeOptions[] volumes)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!ShardNodeRegistry.IsValidNodeId(nodeId))
        {
            throw new ArgumentException($"'{nodeId}' is not a valid node id.", nameof(nodeId));
        }

        if (volumes is null || volumes.Length == 0)
        {
            throw new ArgumentException("A shard node needs at least one volume.", nameof(volumes));
        }

        services.AddSingleton(new ShardNodeDefinition(nodeId, volumes, null));
        return services;
    }

    /// <summary>
    /// Reaches other cluster members over HTTP: <see cref="ShardTransportOptions"/> (bound from
    /// <c>Xmbl:Storage:Transport</c>, validated at startup), <see cref="ShardRequestAuthenticator"/>, an
    /// <see cref="IShardNodeResolver"/> over <see cref="ShardTransportOptions.Nodes"/> (register your own first to resolve
    /// from membership), and an <see cref="IShardClient"/> that calls hosted nodes directly and the rest over HTTP.
    /// Serve this member's nodes with <c>app.MapShardEndpoints()</c>.
    /// </summary>
    public static IServiceCollection AddHttpShardTransport(this IServiceCollection services, Action<ShardTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ShardTransportOptions>().BindIfConfigured(ShardTransportOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShardTransportOptions>, ShardTransportOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ShardRequestAuthenticator(sp.GetRequiredService<IOptions<ShardTransportOptions>>().Value, Xmbl.Cluster.ClusterClock.From(sp)));
        services.TryAddSingleton<IShardNodeResolver>(sp => new StaticShardNodeResolver(sp.GetRequiredService<IOptions<ShardTransportOptions>>().Value.Nodes));
        services.AddHttpClient(HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.RemoveAll<IShardClient>();
        services.AddSingleton<IShardClient>(sp => new RoutingShardClient(
            sp.GetRequiredService<ShardNodeRegistry>(),
            new HttpShardClient(
                sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
                sp.GetRequiredService<IShardNodeResolver>(),
                sp.GetRequiredService<ShardRequestAuthenticator>(),
                sp.GetRequiredService<IOptions<ShardTransportOptions>>().Value.RoutePrefix)));
        return services;
    }

    // Binds the section when the host has configuration; plain service collections (tests, tools) work without it.
    private static OptionsBuilder<T> BindIfConfigured<T>(this OptionsBuilder<T> builder, string section)
        where T : class =>
        builder.Configure<IServiceProvider>((options, sp) => sp.GetService<IConfiguration>()?.GetSection(section).Bind(options));

    /// <summary>The name of the <see cref="HttpClient"/> the shard transport uses (configure timeouts or handlers on it).</summary>
    public const string HttpClientName = "Xmbl.Shards";
}

/// <summary>A logical node hosted in this process, registered by <see cref="StorageServiceCollectionExtensions.AddShardNode"/>.</summary>
/// <param name="NodeId">The node id.</param>
/// <param name="Volumes">Its volumes.</param>
/// <param name="IndexPath">Its index file; null for the first volume.</param>
public sealed record ShardNodeDefinition(string NodeId, IReadOnlyList<StorageVolumeOptions> Volumes, string? IndexPath);
