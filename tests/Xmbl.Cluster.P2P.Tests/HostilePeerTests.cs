using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Internal;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Multistream;
using Xmbl.Cluster.P2P.Noise;
using Xmbl.Cluster.P2P.Options;
using Xmbl.Cluster.P2P.Tests.Support;
using Xmbl.Cluster.P2P.Transport;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P.Tests;

/// <summary>
/// A fake peer that speaks the real handshake and then breaks the rules. Each abuse must close only its own
/// connection, with the reason logged, while a well-behaved peer connected alongside keeps being served.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class HostilePeerTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly Ed25519KeyPair _serverKey = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _goodKey = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _badKey = Ed25519KeyPair.Generate();
    private readonly ListLoggerProvider _logs = new();
    private P2PHost _server = null!;
    private P2PHost _good = null!;
    private P2PConnection _goodConnection = null!;
    private Multiaddr _address = null!;

    public async Task InitializeAsync()
    {
        var options = new P2POptions
        {
            // Long enough for a cold, JIT-ing first handshake on a busy 2-core machine; short enough to wait out.
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            MaxInboundStreams = 4,
            StreamReceiveWindow = P2POptions.InitialStreamWindow,
            MaxControlBacklog = 1024,
        };
        _server = new P2PHost(_serverKey, options, _logs);
        _address = await _server.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None);
        _good = new P2PHost(_goodKey);
        _goodConnection = await _good.DialAsync(_address, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _good.DisposeAsync();
        await _server.DisposeAsync();
        _serverKey.Dispose();
        _goodKey.Dispose();
        _badKey.Dispose();
    }

    [Fact]
    public async Task MalformedYamuxFrame_ClosesOnlyThatConnection()
    {
        await using var bad = await SecureConnectAsync();
        bad.Write([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version 1
        await bad.FlushAsync();

        var logged = await _logs.WaitForAsync(P2PEventId.ProtocolViolation, "version 1", Wait);
        Assert.Contains(PeerId.FromPublicKey(_badKey.PublicKey).ToString(), logged, StringComparison.Ordinal);
        await bad.WaitClosedAsync();
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task UnknownFrameType_ClosesOnlyThatConnection()
    {
        await using var bad = await SecureConnectAsync();
        bad.Write([0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        await bad.FlushAsync();
        await _logs.WaitForAsync(P2PEventId.ProtocolViolation, "unknown frame type 9", Wait);
        await bad.WaitClosedAsync();
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task DataPastTheWindow_ClosesOnlyThatConnection()
    {
        await using var bad = await SecureConnectAsync();
        bad.Frame(YamuxType.WindowUpdate, YamuxFlags.Syn, 1, 0);
        // One byte more than the 256 KiB window, sent without waiting for any update.
        bad.Frame(YamuxType.Data, YamuxFlags.None, 1, P2POptions.InitialStreamWindow + 1);
        bad.Write(new byte[P2POptions.InitialStreamWindow + 1]);
        try
        {
            await bad.FlushAsync();
        }
        catch (IOException)
        {
            // The server refuses the frame at its header and hangs up before the payload is all sent.
        }

        await _logs.WaitForAsync(P2PEventId.ProtocolViolation, "window abuse", Wait);
        await bad.WaitClosedAsync();
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task StreamFlood_ResetsStreamsPastTheLimitThenClosesTheConnection()
    {
        await using var bad = await SecureConnectAsync();
        // 4 streams are allowed (MaxInboundStreams); the next 4 are reset; one more is a flood.
        for (uint i = 0; i < 9; i++)
        {
            bad.Frame(YamuxType.WindowUpdate, YamuxFlags.Syn, (2 * i) + 1, 0);
        }

        await bad.FlushAsync();
        await _logs.WaitForAsync(P2PEventId.StreamRefused, "P2P:MaxInboundStreams", Wait);
        await _logs.WaitForAsync(P2PEventId.ProtocolViolation, "stream flood", Wait);
        await bad.WaitClosedAsync();
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task StreamOfWrongParity_ClosesTheConnection()
    {
        await using var bad = await SecureConnectAsync();
        bad.Frame(YamuxType.WindowUpdate, YamuxFlags.Syn, 2, 0); // the dialer must use odd ids
        await bad.FlushAsync();
        await _logs.WaitForAsync(P2PEventId.ProtocolViolation, "an id of our parity", Wait);
        await bad.WaitClosedAsync();
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task PingFloodWithoutReading_ExceedsTheControlBacklogAndClosesOnlyThatConnection()
    {
        await using var bad = await SecureConnectAsync(receiveBuffer: 4096);
        var closed = _logs.WaitForAsync(P2PEventId.ProtocolViolation, "P2P:MaxControlBacklog", TimeSpan.FromSeconds(30));
        // Pings whose replies we never read: once the server's socket buffers are full its replies queue up.
        for (var sent = 0; sent < 100_000 && !closed.IsCompleted; sent++)
        {
            for (var i = 0; i < 1000; i++)
            {
                bad.Frame(YamuxType.Ping, YamuxFlags.Syn, 0, i);
            }

            try
            {
                await bad.FlushAsync();
            }
            catch (Exception e) when (e is IOException or SocketException or P2PProtocolException or InvalidOperationException)
            {
                break; // the server hung up
            }
        }

        await closed;
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task UnansweredKeepAlivePing_ClosesTheConnection()
    {
        using var key = Ed25519KeyPair.Generate();
        var logs = new ListLoggerProvider();
        await using var server = new P2PHost(key, new P2POptions { KeepAliveInterval = TimeSpan.FromMilliseconds(300) }, logs);
        var address = await server.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None);
        var (socket, raw, session) = await HandshakeAsync(address, server.PeerId, 0);
        await using var bad = new BadPeer(socket, new NoiseChannel(raw, session));

        // The peer reads (so its connection is not idle-blocked) but never answers the server's pings.
        var closed = bad.WaitClosedAsync();
        await logs.WaitForAsync(P2PEventId.ConnectionClosed, "no reply to a keep-alive ping", Wait);
        await closed;
    }

    [Fact]
    public async Task HandshakeStall_TimesOutWhileOtherPeersAreServed()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Assert.True(_address.TryGetTcpTarget(out var host, out var port, out _));
        await socket.ConnectAsync(host, port);

        // Served while the stalled connection is still open.
        await AssertGoodPeerServedAsync();
        await _logs.WaitForAsync(P2PEventId.HandshakeFailed, "no handshake within", Wait);
        Assert.Equal(0, await socket.ReceiveAsync(new byte[16].AsMemory()).AsTask().WaitAsync(Wait));
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task OversizedMultistreamMessage_FailsTheHandshake()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Assert.True(_address.TryGetTcpTarget(out var host, out var port, out _));
        await socket.ConnectAsync(host, port);
        var message = new byte[2 + 2000];
        Varint.Write(message, 2000);
        await socket.SendAsync(message);

        await _logs.WaitForAsync(P2PEventId.HandshakeFailed, "a message of 2000 bytes", Wait);
        await AssertGoodPeerServedAsync();
    }

    [Fact]
    public async Task CorruptNoiseFrame_ClosesOnlyThatConnection()
    {
        var (socket, raw, _) = await HandshakeAsync();
        using (socket)
        {
            var frame = new byte[2 + 100];
            BinaryPrimitives.WriteUInt16BigEndian(frame, 100);
            Random.Shared.NextBytes(frame.AsSpan(2));
            await raw.Output.WriteAsync(frame);
            await _logs.WaitForAsync(P2PEventId.ProtocolViolation, "failed authentication", Wait);
            await AssertGoodPeerServedAsync();
        }
    }

    private async Task AssertGoodPeerServedAsync()
    {
        try
        {
            Assert.Null(_goodConnection.CloseReason);
            Assert.True(await _good.PingAsync(_goodConnection, CancellationToken.None).WaitAsync(Wait) < Wait);
        }
        catch (Exception e) when (e is IOException or Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException("The well-behaved peer was not served. Server log:\n" + string.Join("\n", _logs.Entries.Select(l => $"{l.EventId} {l.Message}")), e);
        }
    }

    private Task<(Socket Socket, DuplexPipe Raw, NoiseSession Session)> HandshakeAsync(int receiveBuffer = 0) =>
        HandshakeAsync(_address, _server.PeerId, receiveBuffer);

    private async Task<(Socket Socket, DuplexPipe Raw, NoiseSession Session)> HandshakeAsync(Multiaddr address, PeerId server, int receiveBuffer)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0)
        {
            socket.ReceiveBufferSize = receiveBuffer;
        }

        Assert.True(address.TryGetTcpTarget(out var host, out var port, out _));
        await socket.ConnectAsync(host, port);
        var network = new NetworkStream(socket, ownsSocket: false);
        var raw = new DuplexPipe(PipeReader.Create(network), PipeWriter.Create(network));
        Assert.Equal("/noise", await MultistreamSelect.SelectAsync(raw.Input, raw.Output, ["/noise"], CancellationToken.None));
        using var handshake = new NoiseHandshake(_badKey, initiator: true, server);
        var session = await handshake.RunAsync(raw.Input, raw.Output, CancellationToken.None);
        Assert.True(session.RemoteSupportsYamux);
        return (socket, raw, session);
    }

    private async Task<BadPeer> SecureConnectAsync(int receiveBuffer = 0)
    {
        var (socket, raw, session) = await HandshakeAsync(receiveBuffer);
        return new BadPeer(socket, new NoiseChannel(raw, session));
    }

    /// <summary>The hostile side: writes raw yamux bytes inside a genuine Noise session.</summary>
    private sealed class BadPeer(Socket socket, NoiseChannel channel) : IAsyncDisposable
    {
        public void Write(ReadOnlySpan<byte> bytes) => channel.Output.Write(bytes);

        public void Frame(YamuxType type, YamuxFlags flags, uint streamId, int length)
        {
            Span<byte> header = stackalloc byte[YamuxHeader.Size];
            new YamuxHeader(type, flags, streamId, (uint)length).Write(header);
            Write(header);
        }

        public async Task FlushAsync() => await channel.Output.FlushAsync();

        /// <summary>Reads until the server ends the connection (after its GoAway).</summary>
        public async Task WaitClosedAsync()
        {
            using var cts = new CancellationTokenSource(Wait);
            try
            {
                while (true)
                {
                    var result = await channel.Input.ReadAsync(cts.Token);
                    channel.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        return;
                    }
                }
            }
            catch (IOException)
            {
                // Reset by the server: closed as well.
            }
        }

        public async ValueTask DisposeAsync()
        {
            socket.Dispose();
            await channel.DisposeAsync();
        }
    }
}
