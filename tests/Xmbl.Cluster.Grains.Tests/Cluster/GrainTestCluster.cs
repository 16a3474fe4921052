using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Cluster;

/// <summary>
/// Orleans' test cluster with two silos, given the silo's own grain storage (<c>SqliteGrainStorage</c> under
/// <see cref="GrainStates.Storage"/>, on one migrated SQLite file), serializer setup and <see cref="NodeHostPlacement"/>.
/// </summary>
public sealed class GrainTestCluster : IAsyncLifetime
{
    private const string ConnectionStringKey = "Xmbl:Test:GrainStorage";
    private readonly TempDirectory _directory = new("xmbl-grain-cluster");
    private TestCluster? _cluster;

    /// <summary>The cluster's clock (<see cref="ClusterClock.Key"/>), shared by both silos.</summary>
    public static ManualTimeProvider Clock { get; } = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>Reads the stored state directly from the database, past the grains.</summary>
    public IGrainStateQuery Storage { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connectionString = $"Data Source={_directory.File("grains.db")}";
        await new SchemaMigrator(new SchemaMigrationOptions { Dialect = SqlDialect.Sqlite, ConnectionString = connectionString }).MigrateAsync();
        Storage = new SqliteGrainStateQuery(connectionString);
        var builder = new TestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }

        _directory.Dispose();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration[ConnectionStringKey]!;
            siloBuilder.AddSqliteGrainStorage(GrainStates.Storage, o => o.ConnectionString = connectionString);
            siloBuilder.Services.AddSerializer(s => s.AddClusterSerialization());
            siloBuilder.Services.AddPlacementDirector<NodeHostPlacement, NodeHostPlacementDirector>();
            siloBuilder.Services.AddOptions<ComputeOptions>();
            siloBuilder.Services.AddKeyedSingleton<TimeProvider>(ClusterClock.Key, Clock);
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.Services.AddSerializer(s => s.AddClusterSerialization());
    }
}

/// <summary>Grain tests share one two-silo cluster; every test uses keys of its own.</summary>
[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainTestCluster>
{
    public const string Name = "GrainCluster";
}
