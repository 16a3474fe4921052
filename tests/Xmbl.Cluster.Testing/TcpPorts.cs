using System.Net;
using System.Net.Sockets;

namespace Xmbl.Cluster.Testing;

/// <summary>Free loopback ports for servers a test or benchmark starts.</summary>
public static class TcpPorts
{
    /// <summary>A port the OS just handed out on 127.0.0.1 and released (free now; taken again only by chance).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
