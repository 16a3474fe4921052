using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Support;

/// <summary>
/// Silo and gateway processes of one test cluster on a fresh PostgreSQL database: each in a data directory named after
/// it under one root, every silo with the same settings, all sharing the transport secret. Disposing it disposes every
/// process it started, last started first.
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly string[] _siloSettings;
    private readonly string[] _gatewaySettings;
    private readonly List<SiloProcess> _processes = [];

    private PostgresCluster(string root, string database, string secret, string[] siloSettings)
    {
        _root = root;
        Database = database;
        _siloSettings = [.. ClusterArgs.Secret(secret), .. siloSettings, "--postgres", database];
        // The gateway counts nodes dead as fast as the silos' FastLiveness does; it takes no silo switches.
        _gatewaySettings = [.. ClusterArgs.Secret(secret), "--postgres", database, "--Xmbl:Node:DeathTimeout", "00:00:03"];
    }

    /// <summary>The cluster's connection string.</summary>
    public string Database { get; }

    /// <summary>Creates the database; starts nothing.</summary>
    /// <param name="postgres">The shared PostgreSQL server.</param>
    /// <param name="root">Where the processes' data directories go (the test's temp directory).</param>
    /// <param name="secret">The shard transport's secret.</param>
    /// <param name="siloSettings">Switches every silo gets (<see cref="ClusterArgs.FastLiveness"/>, <c>--nodes</c>, …).</param>
    public static async Task<PostgresCluster> CreateAsync(PostgresFixture postgres, string root, string secret, params string[] siloSettings) =>
        new(root, await postgres.CreateDatabaseAsync(), secret, siloSettings);

    /// <summary>Starts silo <paramref name="siloId"/> in <c>root/siloId</c> and waits until it is healthy.</summary>
    public async Task<SiloProcess> StartSiloAsync(string siloId, params string[] extraArgs) =>
        Track(await SiloProcess.StartAsync(DataDirectory(siloId), [.. _siloSettings, "--silo-id", siloId, .. extraArgs]));

    /// <summary>Starts the silos one after the other (the first creates the schema).</summary>
    public async Task<SiloProcess[]> StartSilosAsync(params string[] siloIds)
    {
        var silos = new SiloProcess[siloIds.Length];
        for (var i = 0; i < siloIds.Length; i++)
        {
            silos[i] = await StartSiloAsync(siloIds[i]);
        }

        return silos;
    }

    /// <summary>Starts a standalone gateway in <c>root/gateway</c> and waits until it is healthy.</summary>
    public async Task<SiloProcess> StartGatewayAsync() => Track(await GatewayProcess.StartAsync(DataDirectory("gateway"), _gatewaySettings));

    /// <summary>Launches a standalone gateway in <c>root/gateway</c> on <paramref name="port"/> without waiting for it.</summary>
    public SiloProcess LaunchGateway(int port) => Track(GatewayProcess.Launch(DataDirectory("gateway"), port, _gatewaySettings));

    /// <summary>The data directory of a process of this cluster.</summary>
    public string DataDirectory(string name) => Path.Combine(_root, name);

    public async ValueTask DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync();
        }
    }

    private SiloProcess Track(SiloProcess process)
    {
        _processes.Add(process);
        return process;
    }
}
