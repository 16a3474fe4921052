using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Kademlia;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class KadMessageTests
{
    [Fact]
    public void KadMessage_EncodeDecode_RoundTrips()
    {
        using var key = Ed25519KeyPair.Generate();
        var peer = new KadPeer(PeerId.FromPublicKey(key.PublicKey), [Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001"), Multiaddr.Parse("/dns4/x.org/tcp/1")]);
        var message = new KadMessage(KadMessageType.GetProviders, [1, 2, 3], [peer], [peer]);
        var decoded = KadMessage.Decode(message.Encode());
        Assert.Equal(KadMessageType.GetProviders, decoded.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, decoded.Key);
        Assert.Equal(peer.Id, Assert.Single(decoded.CloserPeers).Id);
        Assert.Equal(peer.Addresses, decoded.ProviderPeers.Single().Addresses);
    }

    [Fact]
    public void KadMessage_UnknownAddressTransport_IsSkippedNotFatal()
    {
        using var key = Ed25519KeyPair.Generate();
        var id = PeerId.FromPublicKey(key.PublicKey);
        // Peer { id, addrs: [/ip4/1.2.3.4/udp/1 (unsupported), /ip4/1.2.3.4/tcp/1] }
        var peer = new ProtoWriter().Bytes(1, id.Bytes).Bytes(2, Convert.FromHexString("0401020304910200 01".Replace(" ", "", StringComparison.Ordinal)))
            .Bytes(2, Multiaddr.Parse("/ip4/1.2.3.4/tcp/1").Bytes);
        var bytes = new ProtoWriter().Varint(1, 4).Bytes(2, id.Bytes).Bytes(8, peer.WrittenSpan).ToArray();
        var decoded = KadMessage.Decode(bytes);
        Assert.Equal("/ip4/1.2.3.4/tcp/1", Assert.Single(decoded.CloserPeers.Single().Addresses).ToString());
    }

    [Theory]
    [InlineData("")]          // no type
    [InlineData("0809")]      // type 9
    [InlineData("0804120A01")] // key longer than the message
    public void KadMessage_Malformed_IsRefused(string hex) =>
        Assert.Throws<P2PProtocolException>(() => KadMessage.Decode(Convert.FromHexString(hex)));

    [Fact]
    public void KadMessage_TooManyPeers_IsRefused()
    {
        using var key = Ed25519KeyPair.Generate();
        var peer = new ProtoWriter().Bytes(1, PeerId.FromPublicKey(key.PublicKey).Bytes).ToArray();
        var writer = new ProtoWriter().Varint(1, 4);
        for (var i = 0; i <= KadMessage.MaxPeersPerList; i++)
        {
            writer.Bytes(8, peer);
        }

        Assert.Throws<P2PProtocolException>(() => KadMessage.Decode(writer.ToArray()));
    }
}

[Trait("Suite", "BVT")]
public class KadRoutingTableTests
{
    [Fact]
    public void Nearest_ReturnsPeersByXorDistanceOfTheirHashes()
    {
        using var self = Ed25519KeyPair.Generate();
        var table = new KadRoutingTable(PeerId.FromPublicKey(self.PublicKey));
        var peers = Enumerable.Range(0, 50).Select(_ =>
        {
            using var k = Ed25519KeyPair.Generate();
            return new KadPeer(PeerId.FromPublicKey(k.PublicKey), [Multiaddr.Parse("/ip4/127.0.0.1/tcp/1")]);
        }).ToList();
        foreach (var peer in peers)
        {
            table.AddOrUpdate(peer);
        }

        var target = peers[17].Id;
        var nearest = table.Nearest(target.Bytes, 5);
        Assert.Equal(5, nearest.Count);
        Assert.Equal(target, nearest[0].Id);
        var comparer = new KadRoutingTable.DistanceComparer(System.Security.Cryptography.SHA256.HashData(target.Bytes));
        var hashes = nearest.Select(p => System.Security.Cryptography.SHA256.HashData(p.Id.Bytes)).ToList();
        for (var i = 1; i < hashes.Count; i++)
        {
            Assert.True(comparer.Compare(hashes[i - 1], hashes[i]) <= 0);
        }
    }

    [Fact]
    public void AddOrUpdate_FullBucket_KeepsTheOldPeersAndRefusesSelf()
    {
        using var self = Ed25519KeyPair.Generate();
        var selfId = PeerId.FromPublicKey(self.PublicKey);
        var table = new KadRoutingTable(selfId);
        Assert.False(table.AddOrUpdate(new KadPeer(selfId, [])));
        // Half of all peers share no prefix bit with us: they all land in bucket 0, which holds k.
        var added = 0;
        for (var i = 0; i < 200; i++)
        {
            using var k = Ed25519KeyPair.Generate();
            if (table.AddOrUpdate(new KadPeer(PeerId.FromPublicKey(k.PublicKey), [])))
            {
                added++;
            }
        }

        Assert.True(added < 200);
        Assert.Equal(added, table.Count);
    }
}

[Trait("Suite", "Functional")]
public sealed class KadDhtTests
{
    [Fact]
    public async Task FindPeer_KnownOnlyToAThirdNode_IsFoundThroughIt()
    {
        var keys = Enumerable.Range(0, 3).Select(_ => Ed25519KeyPair.Generate()).ToArray();
        var hosts = keys.Select(k => new P2PHost(k)).ToArray();
        try
        {
            var dhts = hosts.Select(h => new KadDht(h)).ToArray();
            var addresses = new List<Multiaddr>();
            foreach (var host in hosts)
            {
                addresses.Add(await host.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None));
            }

            // 2 bootstraps from 1; 0 only connects to 1 (the table learns it through Identify).
            await dhts[2].BootstrapAsync(addresses[1], CancellationToken.None);
            await hosts[0].DialAsync(addresses[1], CancellationToken.None);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (dhts[0].Table.Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "node 0 did not learn node 1 from Identify");
                await Task.Delay(10);
            }

            // Node 1 learns node 2 from Identify on 2's inbound connection, which may finish after the bootstrap.
            while (dhts[1].Table.Find(hosts[2].PeerId) is null)
            {
                Assert.True(DateTime.UtcNow < deadline, "node 1 did not learn node 2 from its bootstrap");
                await Task.Delay(10);
            }

            Assert.Null(dhts[0].Table.Find(hosts[2].PeerId));
            Assert.Null(hosts[0].GetConnection(hosts[2].PeerId));

            var found = await dhts[0].FindPeerAsync(hosts[2].PeerId, CancellationToken.None);
            Assert.NotNull(found);
            Assert.Contains(addresses[2].WithoutPeerId(), found!.Addresses);
            var connection = await hosts[0].ConnectAsync(found.Id, found.Addresses, CancellationToken.None);
            Assert.True(await hosts[0].PingAsync(connection, CancellationToken.None) > TimeSpan.Zero);

            // Providers: 2 announces a key; 0 finds it through the DHT.
            var key = System.Security.Cryptography.SHA256.HashData("some content"u8);
            Assert.True(await dhts[2].ProvideAsync(key, CancellationToken.None) >= 1);
            var providers = await dhts[0].FindProvidersAsync(key, 1, CancellationToken.None);
            Assert.Equal(hosts[2].PeerId, Assert.Single(providers).Id);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }

            foreach (var key in keys)
            {
                key.Dispose();
            }
        }
    }
}
