
namespace Xmbl.Cluster.Testing.Processes;

/// <summary>
/// A standalone gateway process (the built Xmbl.Cluster.Gateway.Host.dll): an Orleans client of a cluster on PostgreSQL
/// serving the REST API. It is driven like a silo, so it is a <see cref="SiloProcess"/> (signing clients, output, kill).
/// </summary>
public static class GatewayProcess
{
    /// <summary>Starts a gateway and waits until /healthz answers (it is connected to the cluster).</summary>
    public static Task<SiloProcess> StartAsync(string dataDirectory, params string[] args) =>
        SiloProcess.StartHealthyAsync(port => Launch(dataDirectory, port, args));

    /// <summary>Starts a gateway without waiting for it (for start-up failure tests).</summary>
    public static SiloProcess Launch(string dataDirectory, int port, params string[] args) =>
        SiloProcess.Launch(SiloProcess.ProgramDll("Gateway.Host", "Xmbl.Cluster.Gateway.Host.dll"), orleansPorts: false, dataDirectory, port, args);
}
