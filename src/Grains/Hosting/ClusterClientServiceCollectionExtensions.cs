using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Hosting;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Persistence.Sql.PostgreSql;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Hosting;

/// <summary>
/// Composes a standalone gateway's back end: an Orleans client of a cluster on PostgreSQL and the services the REST API
/// uses (jobs, modules, objects, the node directory), with no silo, no nodes and no shard store of its own.
/// </summary>
public static class ClusterClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds an Orleans client that finds the silos through the AdoNet membership table on
    /// <c>Xmbl:Persistence:ConnectionString</c> (required), plus the job, module and object services.
    /// </summary>
    /// <remarks>
    /// Reads (jobs, nodes, manifests) go to the grain state table directly, as on a silo; changes are grain calls. Objects
    /// are erasure-coded here and their shards sent to the nodes' silos over the signed shard transport, so
    /// <c>Xmbl:Storage:Transport:ClusterSecret</c> is required too. Modules must be kept in the database (the default
    /// in cluster mode): a gateway has no node that could serve them from its disk.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration (see <see cref="ClusterClientConfiguration"/> for keys).</param>
    /// <returns>What was decided.</returns>
    /// <exception cref="InvalidOperationException">A required key is missing or a value cannot work for a gateway.</exception>
    public static ClusterClientSetup AddClusterClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration[SiloConfiguration.ConnectionStringKey];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"{SiloConfiguration.ConnectionStringKey} (--postgres) is required: a standalone gateway finds the silos in the cluster's PostgreSQL database.");
        }

        if (bool.TryParse(configuration[ComputeOptions.SectionName + ":" + nameof(ComputeOptions.ModulesInDatabase)], out var inDatabase) && !inDatabase)
        {
            throw new InvalidOperationException(
                $"{ComputeOptions.SectionName}:{nameof(ComputeOptions.ModulesInDatabase)} is false, but a standalone gateway can only keep modules in the database.");
        }

        var dataDirectory = Path.GetFullPath(configuration[SiloConfiguration.DataDirectoryKey] ?? SiloConfiguration.DefaultDataDirectory);
        Directory.CreateDirectory(dataDirectory);
        var clusterId = configuration[SiloConfiguration.ClusterIdKey] is { Length: > 0 } id ? id : SiloConfiguration.DefaultClusterId;

        services.TryAddKeyedSingleton(ClusterClock.Key, TimeProvider.System);
        services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(connectionString));
        services.AddSingleton<IGrainStateQuery>(sp => new PostgresGrainStateQuery(sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), clusterId));

        services.AddSingleton<ClusterConnectionHealth>();
        services.AddSingleton<ISiloHealthReporter>(sp => sp.GetRequiredService<ClusterConnectionHealth>());
        services.AddOrleansClient(client =>
        {
            // As on the silos: the gateway's request span is the parent of the grain calls it makes.
            client.AddActivityPropagation();
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = SiloServiceCollectionExtensions.PostgresInvariant;
                o.ConnectionString = connectionString;
            });
            client.Services.AddSerializer(s => s.AddClusterSerialization());
            // Database errors from grains arrive as themselves (see AddSilo), so the gateway answers them with 503.
            client.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
            // The one instance /healthz reads (the generic AddClusterConnectionStatusObserver would make another).
            client.Services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<ClusterConnectionHealth>());
        });

        // The node directory: liveness (DeathTimeout), addresses for the shard transport, the largest node's memory.
        services.AddOptions<NodeOptions>()
            .Bind(configuration.GetSection(NodeOptions.SectionName))
            .PostConfigure(o => o.Count ??= NodeOptions.DefaultClusterCount)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        services.AddSingleton<NodeDirectory>();
        services.AddSingleton<ReputationDirectory>();

        AddObjects(services, configuration);
        AddJobs(services, configuration, dataDirectory);
        return new ClusterClientSetup(dataDirectory, clusterId);
    }

    private static void AddObjects(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ObjectStorageOptions>().Bind(configuration.GetSection(ObjectStorageOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ObjectStorageOptions>, ObjectStorageOptionsValidator>();
        services.AddOptions<StoragePolicyOptions>()
            .PostConfigure(o =>
            {
                // As on a silo: no policy configured opens every namespace to everyone.
                if (o.Namespaces.Count == 0)
                {
                    o.Namespaces.Add(NamespacePolicy.MeshGlobal("*", ownerAccount: "", new AccessGrant("*", ObjectOperations.All)));
                }
            });

        // No volumes: the registry stays empty and every shard goes over HTTP to the silo that hosts its node, at the
        // address the node announces (filled in by ObjectService from the node directory).
        services.AddSingleton(_ => new StaticShardNodeResolver());
        services.AddSingleton<IShardNodeResolver>(sp => sp.GetRequiredService<StaticShardNodeResolver>());

        // As on a silo: altered shards cost their holders reputation, and placement skips nodes below the minimum.
        services.AddSingleton<ShardHolderReputation>();
        services.AddSingleton<Xmbl.Cluster.Storage.Objects.ICorruptShardObserver>(sp => sp.GetRequiredService<ShardHolderReputation>());

        services.AddShardStore();
        services.AddHttpShardTransport();
        services.AddSingleton<ObjectService>();

        // Operator-triggered repair passes run here; the periodic ones stay with the silos' repair reminder.
        services.AddSingleton<StorageRepairService>();
    }

    private static void AddJobs(IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        services.AddOptions<ComputeOptions>().Bind(configuration.GetSection(ComputeOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ComputeOptions>, ComputeOptionsValidator>();

        // Compiling is how an uploaded module is validated: the gateway refuses a bad module before any grain sees it,
        // with the engine Xmbl:Compute:Engine names, as the silos (its compiled cache goes to the gateway's data directory).
        services.TryAddSingleton<IWasmEngine>(sp => ComputeEngines.Create(sp.GetRequiredService<IOptions<ComputeOptions>>().Value.Engine, dataDirectory));
        services.AddSingleton(sp => new ModuleStore(
            sp.GetRequiredService<IWasmEngine>(),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<ComputeOptions>>(),
            sp.GetRequiredKeyedService<TimeProvider>(ClusterClock.Key),
            Path.Combine(dataDirectory, "modules"),
            bytesInDatabase: true));
        services.AddSingleton(sp => new JobObjects(
            sp.GetRequiredService<ObjectService>(),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<ComputeOptions>>(),
            sp.GetRequiredKeyedService<TimeProvider>(ClusterClock.Key)));
        // Edge nodes of the libp2p bridge (/xmbl/node): relayed, their work reaches them through their relay grains.
        services.AddSingleton(sp => EdgeNodes.ForGateway(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<NodeDirectory>(),
            "gateway@" + Environment.MachineName,
            sp.GetRequiredKeyedService<TimeProvider>(ClusterClock.Key),
            sp.GetRequiredService<ILogger<EdgeNodes>>()));
        services.AddSingleton(sp =>
        {
            var nodes = sp.GetRequiredService<NodeDirectory>();
            return new JobService(
                sp.GetRequiredService<IGrainFactory>(),
                sp.GetRequiredService<IGrainStateQuery>(),
                sp.GetRequiredService<ModuleStore>(),
                sp.GetRequiredService<JobObjects>(),
                sp.GetRequiredKeyedService<TimeProvider>(ClusterClock.Key),
                sp.GetRequiredService<IOptions<ComputeOptions>>(),
                nodes.LargestNodeMemoryAsync);
        });
    }
}

/// <summary>What <see cref="ClusterClientServiceCollectionExtensions.AddClusterClient"/> decided.</summary>
/// <param name="DataDirectory">The gateway's absolute data directory (its operator key).</param>
/// <param name="ClusterId">The cluster it joins.</param>
public sealed record ClusterClientSetup(string DataDirectory, string ClusterId);

/// <summary>
/// The gateway's link to the cluster, for <c>/healthz</c>: unhealthy while Orleans reports no silo gateway connected
/// (the client fails over between silos by itself, so one dead silo is no problem while another answers).
/// </summary>
public sealed partial class ClusterConnectionHealth(ILogger<ClusterConnectionHealth> logger) : IClusterConnectionStatusObserver, ISiloHealthReporter
{
    // Connected at start: the client's start fails when it finds no silo.
    private volatile int _gateways = -1;

    /// <summary>Silo gateways the client is connected to; -1 before Orleans first reports a count.</summary>
    public int ConnectedGateways => _gateways;

    /// <inheritdoc/>
    public void AddProblems(ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (_gateways == 0)
        {
            problems.Add("not connected to the cluster: no silo gateway answers");
        }
    }

    /// <inheritdoc/>
    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        _gateways = currentNumberOfGateways;
        LogGatewayCount(currentNumberOfGateways, previousNumberOfGateways);
    }

    /// <inheritdoc/>
    public void NotifyClusterConnectionLost()
    {
        _gateways = 0;
        LogConnectionLost();
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Connected to {Current} silo gateway(s) (was {Previous})")]
    private partial void LogGatewayCount(int current, int previous);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Lost the connection to the cluster: no silo gateway answers")]
    private partial void LogConnectionLost();
}
