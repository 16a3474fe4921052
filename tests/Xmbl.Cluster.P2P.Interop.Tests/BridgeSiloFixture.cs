using System.Text.Json;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>An embedded silo with two nodes and the libp2p bridge on a free port, shared by the bridge tests.</summary>
public sealed class BridgeSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-bridge");

    public SiloProcess Silo { get; private set; } = null!;

    /// <summary>The bridge's multiaddr, as <c>/api/cluster</c> shows it.</summary>
    public string Address { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (JsPeer.MissingReason is not null)
        {
            return; // the tests skip, or fail under CI with what to install
        }

        Silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2", "--p2p-port", "0");
        Address = (await Silo.GetJsonAsync("/api/cluster")).GetProperty("p2p").GetString()!;
    }

    public async Task<JsonElement> NodeAsync(string id)
    {
        var nodes = (await Silo.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray();
        return nodes.Single(n => n.GetProperty("id").GetString() == id);
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        _data.Dispose();
    }
}
