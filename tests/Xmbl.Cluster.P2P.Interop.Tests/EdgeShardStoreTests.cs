using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Xmbl.Cluster.Gateway.P2P;
using Xmbl.Cluster.Gateway.P2P.Messages;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>
/// <see cref="EdgeShardStore"/> against a scripted peer: what the node answers decides, but every byte it sends back
/// is hashed by the gateway, and silence is a timeout.
/// </summary>
[Trait("Suite", "BVT")]
public sealed class EdgeShardStoreTests
{
    private static readonly byte[] Shard = RandomNumberGenerator.GetBytes(10_000);
    private static readonly string ShardSha = Convert.ToHexStringLower(SHA256.HashData(Shard));

    [Fact]
    public async Task Put_ThenGet_RoundTripsThroughThePeer_AndCountsTheBytesUsed()
    {
        var peer = new ScriptedPeer();
        var store = peer.Store();
        var id = ShardId.New();

        var info = await store.PutAsync(id, new MemoryStream(Shard), Shard.Length, ShardSha);
        await using var read = await store.OpenReadAsync(id);
        var stats = await store.GetStatsAsync();

        Assert.Equal(ShardSha, info.Sha256);
        Assert.Equal(Shard, ReadAll(read));
        Assert.Equal(Shard.Length, stats.UsedBytes);
        Assert.Equal(1L << 20, stats.UsedBytes + stats.FreeBytes);
    }

    [Fact]
    public async Task Get_OfAlteredBytes_IsCorrupt_AndScrubSaysSo()
    {
        var peer = new ScriptedPeer();
        var store = peer.Store();
        var id = ShardId.New();
        await store.PutAsync(id, new MemoryStream(Shard), Shard.Length, ShardSha);
        peer.Alter = true;

        await Assert.ThrowsAsync<ShardCorruptException>(() => store.OpenReadAsync(id));
        Assert.Equal(ShardHealthStatus.Corrupt, (await store.ScrubAsync(id)).Status);
    }

    [Fact]
    public async Task Put_ThePeerHashesDifferently_IsCorrupt_AndNothingIsIndexed()
    {
        var peer = new ScriptedPeer { PutAnswer = 422 };
        var store = peer.Store();
        var id = ShardId.New();

        await Assert.ThrowsAsync<ShardCorruptException>(() => store.PutAsync(id, new MemoryStream(Shard), Shard.Length, ShardSha));
        Assert.Null(await store.GetInfoAsync(id));
        Assert.Equal(0, store.UsedBytes);
    }

    [Fact]
    public async Task Put_BytesNotMatchingTheGivenSha256_AreRefusedBeforeTheyAreSent()
    {
        var peer = new ScriptedPeer();
        var store = peer.Store();

        await Assert.ThrowsAsync<ShardCorruptException>(() => store.PutAsync(ShardId.New(), new MemoryStream(Shard), Shard.Length, new string('0', 64)));
        Assert.Equal(0, peer.Requests);
    }

    [Fact]
    public async Task Put_OverTheAnnouncedCapacity_IsFull()
    {
        var store = new ScriptedPeer().Store(capacity: 5_000);

        await Assert.ThrowsAsync<ShardStoreFullException>(() => store.PutAsync(ShardId.New(), new MemoryStream(Shard), Shard.Length, ShardSha));
        Assert.Equal(0, store.UsedBytes);
    }

    [Fact]
    public async Task ASilentPeer_TimesOut_AsAnUnavailableNode()
    {
        var peer = new ScriptedPeer { Silent = true };
        var store = peer.Store(timeout: TimeSpan.FromMilliseconds(200));

        var e = await Assert.ThrowsAsync<ShardNodeUnavailableException>(() => store.PutAsync(ShardId.New(), new MemoryStream(Shard), Shard.Length, ShardSha));
        Assert.Contains("EdgeShardTimeout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Close_FailsOpenRequestsAtOnce_AndLaterOnes()
    {
        var peer = new ScriptedPeer { Silent = true };
        var store = peer.Store();
        var open = store.PutAsync(ShardId.New(), new MemoryStream(Shard), Shard.Length, ShardSha);

        store.Close("its connection closed");

        await Assert.ThrowsAsync<ShardNodeUnavailableException>(() => open);
        await Assert.ThrowsAsync<ShardNodeUnavailableException>(() => store.PutAsync(ShardId.New(), new MemoryStream(Shard), Shard.Length, ShardSha));
    }

    [Fact]
    public void ShardQueue_OfANodeThatStopsReading_IsBounded_AndFreedAsTheWriterSends()
    {
        var link = new NodeProtocol.Link(maxQueuedShardBytes: 1 << 20);
        GatewayMessage Put(int bytes) => new() { Shard = new ShardRequest { Put = new ShardPut { ShardId = "s", Data = ByteString.CopyFrom(new byte[bytes]) } } };
        var first = Put(600_000);

        var accepted = (link.Send(first), link.Send(Put(300_000)), link.Send(Put(300_000)));
        link.Sent(first);
        var afterSend = link.Send(Put(300_000));

        Assert.Equal((true, true, false), accepted);
        Assert.True(afterSend);
    }

    [Fact]
    public void ShardQueue_LetsOneShardLargerThanTheBoundThrough_WhenItHoldsNothingElse()
    {
        var link = new NodeProtocol.Link(maxQueuedShardBytes: 1 << 20);

        Assert.True(link.Send(new GatewayMessage { Shard = new ShardRequest { Put = new ShardPut { Data = ByteString.CopyFrom(new byte[2 << 20]) } } }));
        Assert.False(link.Send(new GatewayMessage { Shard = new ShardRequest { Get = new ShardGet { ShardId = "s" } } }));
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Answers the store's requests as a peer would, keeping shards in memory.</summary>
    private sealed class ScriptedPeer
    {
        private readonly Dictionary<string, byte[]> _shards = [];
        private EdgeShardStore? _store;

        public bool Alter { get; set; }

        public bool Silent { get; set; }

        public uint PutAnswer { get; set; } = 200;

        public int Requests { get; private set; }

        public EdgeShardStore Store(long capacity = 1 << 20, TimeSpan? timeout = null) =>
            _store = new EdgeShardStore("did:key:z6MkTest", capacity, 1 << 20, timeout ?? TimeSpan.FromSeconds(10), Send, TimeProvider.System, NullLogger.Instance);

        private bool Send(GatewayMessage message)
        {
            Requests++;
            if (Silent)
            {
                return true;
            }

            var r = message.Shard;
            var answer = new ShardResponse { RequestId = r.RequestId, Code = 200 };
            switch (r.OpCase)
            {
                case ShardRequest.OpOneofCase.Put:
                    _shards[r.Put.ShardId] = r.Put.Data.ToByteArray();
                    answer.Code = PutAnswer;
                    answer.Sha256 = PutAnswer == 200 ? r.Put.Sha256 : new string('1', 64);
                    break;
                case ShardRequest.OpOneofCase.Get:
                    var data = (byte[])_shards[r.Get.ShardId].Clone();
                    if (Alter)
                    {
                        data[0] ^= 0xff;
                    }

                    answer.Data = ByteString.CopyFrom(data);
                    break;
                default:
                    answer.Code = _shards.Remove(r.Delete.ShardId) ? 200u : 404u;
                    break;
            }

            // Answered after the request is on its way, as over the stream.
            _ = Task.Run(() => _store!.Complete(answer));
            return true;
        }
    }
}
