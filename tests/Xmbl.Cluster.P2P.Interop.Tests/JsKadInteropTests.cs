using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Kademlia;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>Kademlia lookups across our node and two js-libp2p kad-dht nodes in server mode.</summary>
[Trait("Suite", "Interop")]
public sealed class JsKadInteropTests : IAsyncLifetime
{
    private readonly Ed25519KeyPair _key = Ed25519KeyPair.Generate();
    private P2PHost _host = null!;
    private KadDht _dht = null!;
    private JsPeer _a = null!;
    private JsPeer _b = null!;

    public async Task InitializeAsync()
    {
        if (JsPeer.MissingReason is { } reason)
        {
            throw new InvalidOperationException("Interop tests cannot run: " + reason);
        }

        _host = new P2PHost(_key);
        _dht = new KadDht(_host);
        await _host.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None);
        _a = await JsPeer.StartAsync("--dht");
        // B knows only A.
        _b = await JsPeer.StartAsync("--dht", "--bootstrap", _a.Address);
    }

    public async Task DisposeAsync()
    {
        foreach (var peer in new[] { _b, _a })
        {
            if (peer is not null)
            {
                await peer.DisposeAsync();
            }
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _key.Dispose();
    }

    [InteropFact]
    public async Task FindPeer_JsPeerKnownOnlyToAnotherJsNode_IsFoundThroughIt()
    {
        await _host.DialAsync(Multiaddr.Parse(_a.Address), CancellationToken.None);
        await WaitUntilAsync(() => _dht.Table.Count >= 1, "our table did not learn the JS node from Identify");
        var target = PeerId.Parse(_b.PeerId);
        Assert.Null(_host.GetConnection(target));

        var found = await _dht.FindPeerAsync(target, CancellationToken.None);

        Assert.NotNull(found);
        Assert.Contains(Multiaddr.Parse(_b.Address).WithoutPeerId(), found!.Addresses);
        var connection = await _host.ConnectAsync(found.Id, found.Addresses, CancellationToken.None);
        Assert.True(await _host.PingAsync(connection, CancellationToken.None) < TimeSpan.FromSeconds(5));
    }

    [InteropFact]
    public async Task JsFindPeer_OurNodeKnownOnlyToAnotherJsNode_FindsUs()
    {
        await _host.DialAsync(Multiaddr.Parse(_a.Address), CancellationToken.None);
        // A adds us once its Identify shows we serve /ipfs/kad/1.0.0; B then asks A.
        var reply = await _b.CommandAsync("findPeer", new { peerId = _host.PeerId.ToString() }, TimeSpan.FromSeconds(40));
        Assert.Equal(_host.PeerId.ToString(), reply["peerId"]!.GetValue<string>());
        var addresses = reply["addrs"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Contains(_host.ListenAddresses[0].WithoutPeerId().ToString(), addresses);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string message)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, message);
            await Task.Delay(20);
        }
    }
}
