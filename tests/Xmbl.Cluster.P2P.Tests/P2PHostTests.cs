using System.Buffers;
using System.Security.Cryptography;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Options;
using Xmbl.Cluster.P2P.Protocols;
using Xmbl.Cluster.P2P.Tests.Support;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "Functional")]
public sealed class P2PHostTests : IAsyncLifetime
{
    private const string Echo = "/xmbl-test/echo/1.0.0";
    private static readonly Multiaddr Loopback = Multiaddr.Parse("/ip4/127.0.0.1/tcp/0");
    private readonly Ed25519KeyPair _serverKey = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _clientKey = Ed25519KeyPair.Generate();
    private readonly ListLoggerProvider _logs = new();
    private P2PHost _server = null!;
    private P2PHost _client = null!;
    private Multiaddr _address = null!;

    public async Task InitializeAsync()
    {
        _server = new P2PHost(_serverKey, new P2POptions(), _logs);
        _server.Handle(Echo, async (stream, _, ct) =>
        {
            await stream.CopyToAsync(stream, ct);
            await stream.CloseWriteAsync();
        });
        _client = new P2PHost(_clientKey);
        _address = await _server.ListenAsync(Loopback, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _serverKey.Dispose();
        _clientKey.Dispose();
    }

    [Fact]
    public async Task Dial_ToListeningHost_AuthenticatesBothPeers()
    {
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        Assert.Equal(_server.PeerId, connection.RemotePeer);
        Assert.Equal(_serverKey.PublicKey, connection.RemoteKey);
        await WaitUntilAsync(() => _server.Connections.Count == 1);
        Assert.Equal(_client.PeerId, _server.Connections.Single().RemotePeer);
    }

    [Fact]
    public async Task Dial_WithWrongPeerIdInAddress_FailsTheHandshake()
    {
        using var other = Ed25519KeyPair.Generate();
        var wrong = _address.WithPeerId(PeerId.FromPublicKey(other.PublicKey));
        var error = await Assert.ThrowsAsync<P2PProtocolException>(() => _client.DialAsync(wrong, CancellationToken.None));
        Assert.Contains("but the remote is", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_BetweenOurHosts_ReturnsRoundTrip()
    {
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            var rtt = await _client.PingAsync(connection, CancellationToken.None);
            Assert.True(rtt > TimeSpan.Zero && rtt < TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public async Task Identify_BetweenOurHosts_ReturnsKeyProtocolsAndAddresses()
    {
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        var info = await _client.IdentifyAsync(connection, CancellationToken.None);
        Assert.Equal(_server.PeerId, info.PeerId);
        Assert.Contains(PingProtocol.ProtocolId, info.Protocols);
        Assert.Contains(IdentifyProtocol.ProtocolId, info.Protocols);
        Assert.Contains(Echo, info.Protocols);
        Assert.Equal(_address.WithoutPeerId(), Assert.Single(info.ListenAddresses));
        Assert.Equal(connection.LocalAddress, info.ObservedAddress);
        Assert.Equal("xmbl-cluster/1.0", info.AgentVersion);
    }

    [Fact]
    public async Task OpenStream_ForUnservedProtocol_IsRefusedAndConnectionStaysUsable()
    {
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        await Assert.ThrowsAsync<NotSupportedException>(() => connection.OpenStreamAsync("/not/served/1.0.0", CancellationToken.None));
        Assert.True(await _client.PingAsync(connection, CancellationToken.None) > TimeSpan.Zero);
    }

    [Fact]
    public async Task Echo_Of16MiBOverOneStream_IsByteIdentical()
    {
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        await using var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None);
        var data = RandomNumberGenerator.GetBytes(16 << 20);
        var received = new byte[data.Length];
        var reader = Task.Run(async () => await stream.ReadAtLeastAsync(received, received.Length, throwOnEndOfStream: true));
        for (var offset = 0; offset < data.Length; offset += 100_000)
        {
            await stream.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)));
        }

        await stream.CloseWriteAsync();
        Assert.Equal(data.Length, await reader);
        Assert.True(data.AsSpan().SequenceEqual(received));
        Assert.Equal(0, await stream.ReadAsync(new byte[1]));
    }

    [Fact]
    public async Task Streams_ManyAtOnce_AreMultiplexedIndependently()
    {
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        var tasks = Enumerable.Range(0, 32).Select(async i =>
        {
            await using var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None);
            var data = RandomNumberGenerator.GetBytes(50_000 + i);
            await stream.WriteAsync(data);
            await stream.CloseWriteAsync();
            var back = new byte[data.Length];
            await stream.ReadExactlyAsync(back);
            Assert.Equal(data, back);
        });
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Streams_OpenedFromManyThreadsAtOnce_AllReachTheRemoteAndTheConnectionStays()
    {
        // Stream ids must reach the remote in the order they were taken: it refuses an id below one it has seen
        // (a KadDht test lost its connection when Identify and a lookup opened streams at the same moment).
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        for (var round = 0; round < 200; round++)
        {
            using var start = new ManualResetEventSlim();
            var tasks = Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
            {
                start.Wait();
                await using var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None);
                byte[] data = [(byte)i, (byte)round];
                await stream.WriteAsync(data);
                await stream.CloseWriteAsync();
                var back = new byte[data.Length];
                await stream.ReadExactlyAsync(back);
                Assert.Equal(data, back);
            })).ToArray();
            start.Set();
            await Task.WhenAll(tasks);
        }
    }

    [Fact]
    public async Task Write_WhenReceiverDoesNotRead_StopsAtTheReceiveWindow()
    {
        var accepted = new TaskCompletionSource<Yamux.YamuxStream>();
        var release = new TaskCompletionSource();
        _server.Handle("/xmbl-test/stall/1.0.0", async (stream, _, _) =>
        {
            accepted.SetResult(stream);
            await release.Task;
        });
        await using var connection = await _client.DialAsync(_address, CancellationToken.None);
        await using var stream = await connection.OpenStreamAsync("/xmbl-test/stall/1.0.0", CancellationToken.None);
        await accepted.Task;
        var data = new byte[4 << 20];
        var written = 0L;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < data.Length; i += 16 * 1024)
            {
                await stream.WriteAsync(data.AsMemory(i, 16 * 1024));
                Interlocked.Add(ref written, 16 * 1024);
            }
        });
        // The receiver's window (P2P:StreamReceiveWindow, 1 MiB by default) is all the sender gets out; the negotiation's
        // few bytes came out of it too, so the last whole 16 KiB write before the limit is the 63rd.
        var limit = P2POptions.DefaultStreamReceiveWindow - (16 * 1024);
        await WaitUntilAsync(() => Interlocked.Read(ref written) >= limit);
        await Task.Delay(300);
        Assert.False(writer.IsCompleted);
        Assert.Equal(limit, Interlocked.Read(ref written));
        release.SetResult();
        stream.Reset();
        await Assert.ThrowsAnyAsync<IOException>(() => writer);
    }

    [Fact]
    public async Task KeepAlive_BetweenOurHosts_IsAnsweredAndKeepsTheConnection()
    {
        using var key = Ed25519KeyPair.Generate();
        await using var pinging = new P2PHost(key, new P2POptions { KeepAliveInterval = TimeSpan.FromMilliseconds(500) });
        await using var connection = await pinging.DialAsync(_address, CancellationToken.None);
        await using var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None); // not idle
        await WaitUntilAsync(() => connection.Session.PingsAnswered >= 2);
        Assert.Null(connection.CloseReason);
    }

    [Fact]
    public async Task DisposeStream_AfterItsConnectionClosed_DoesNotThrow()
    {
        var connection = await _client.DialAsync(_address, CancellationToken.None);
        var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None);
        stream.Output.Write(new byte[10]); // buffered, not yet sent
        await connection.CloseAsync();
        await stream.DisposeAsync();
        await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task DisposeHost_ClosesItsConnections()
    {
        var connection = await _client.DialAsync(_address, CancellationToken.None);
        await _server.DisposeAsync();
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(connection.CloseReason);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(10);
        }
    }
}
