using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Internal;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Options;
using Xmbl.Cluster.P2P.Tests.Support;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "Functional")]
public sealed class P2PLimitsTests
{
    private static readonly Multiaddr Loopback = Multiaddr.Parse("/ip4/127.0.0.1/tcp/0");

    [Fact]
    public async Task MaxConnections_WhenReached_RefusesTheNextAtAcceptAndKeepsTheFirst()
    {
        using var serverKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        var logs = new ListLoggerProvider();
        await using var server = new P2PHost(serverKey, new P2POptions { MaxConnections = 1 }, logs);
        var address = await server.ListenAsync(Loopback, CancellationToken.None);
        await using var client = new P2PHost(clientKey);
        await using var first = await client.DialAsync(address, CancellationToken.None);

        await Assert.ThrowsAnyAsync<Exception>(() => client.DialAsync(address, CancellationToken.None));
        await logs.WaitForAsync(P2PEventId.ConnectionRefused, "P2P:MaxConnections", TimeSpan.FromSeconds(10));
        Assert.True(await client.PingAsync(first, CancellationToken.None) > TimeSpan.Zero);
    }

    [Fact]
    public async Task MaxPendingHandshakes_WhenReached_RefusesFurtherConnectionsUntilOneFinishes()
    {
        using var serverKey = Ed25519KeyPair.Generate();
        var logs = new ListLoggerProvider();
        await using var server = new P2PHost(serverKey, new P2POptions { MaxPendingHandshakes = 1, HandshakeTimeout = TimeSpan.FromSeconds(2) }, logs);
        var address = await server.ListenAsync(Loopback, CancellationToken.None);
        Assert.True(address.TryGetTcpTarget(out var host, out var port, out _));
        using var stalled = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await stalled.ConnectAsync(host, port);
        await Task.Delay(200); // let the server take it into its handshake
        using var second = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await second.ConnectAsync(host, port);

        await logs.WaitForAsync(P2PEventId.ConnectionRefused, "P2P:MaxPendingHandshakes", TimeSpan.FromSeconds(10));
        // Once the stalled handshake times out, a real peer gets in.
        await logs.WaitForAsync(P2PEventId.HandshakeFailed, "P2P:HandshakeTimeout", TimeSpan.FromSeconds(10));
        using var clientKey = Ed25519KeyPair.Generate();
        await using var client = new P2PHost(clientKey);
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        Assert.True(await client.PingAsync(connection, CancellationToken.None) > TimeSpan.Zero);
    }

    [Fact]
    public async Task MaxOutboundStreams_WhenReached_OpenStreamThrows()
    {
        using var serverKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        await using var server = new P2PHost(serverKey);
        server.Handle("/hold/1.0.0", async (stream, _, ct) => await stream.Input.ReadAsync(ct));
        var address = await server.ListenAsync(Loopback, CancellationToken.None);
        await using var client = new P2PHost(clientKey, new P2POptions { MaxOutboundStreams = 2 });
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        await using var a = await connection.OpenStreamAsync("/hold/1.0.0", CancellationToken.None);
        await using var b = await connection.OpenStreamAsync("/hold/1.0.0", CancellationToken.None);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => connection.OpenStreamAsync("/hold/1.0.0", CancellationToken.None));
        Assert.Contains("P2P:MaxOutboundStreams", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdleTimeout_WithNoStreams_ClosesTheConnectionWithItsReason()
    {
        using var serverKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        await using var server = new P2PHost(serverKey, new P2POptions { IdleTimeout = TimeSpan.FromMilliseconds(500) });
        var address = await server.ListenAsync(Loopback, CancellationToken.None);
        await using var client = new P2PHost(clientKey);
        var connection = await client.DialAsync(address, CancellationToken.None);

        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("the remote closed the connection", connection.CloseReason);
        Assert.Empty(server.Connections);
    }

    [Fact]
    public async Task StreamNegotiationTimeout_WhenNoProtocolIsNamed_ResetsTheStream()
    {
        using var serverKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        var logs = new ListLoggerProvider();
        await using var server = new P2PHost(serverKey, new P2POptions { StreamNegotiationTimeout = TimeSpan.FromMilliseconds(300) }, logs);
        var address = await server.ListenAsync(Loopback, CancellationToken.None);
        await using var client = new P2PHost(clientKey);
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        var silent = connection.Session.OpenStream();

        await logs.WaitForAsync(P2PEventId.StreamNegotiationFailed, "P2P:StreamNegotiationTimeout", TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<IOException>(async () => await silent.ReadExactlyAsync(new byte[1]));
        Assert.True(await client.PingAsync(connection, CancellationToken.None) > TimeSpan.Zero);
    }

    [Fact]
    public void Validator_BadSettings_NameTheKeys()
    {
        var options = new P2POptions { MaxConnections = 0, StreamReceiveWindow = 1000, HandshakeTimeout = TimeSpan.Zero, AgentVersion = "" };
        options.ListenAddresses.Add("/ip4/1.2.3.4/udp/1");
        var result = new P2POptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        foreach (var key in new[] { "P2P:MaxConnections", "P2P:StreamReceiveWindow", "P2P:HandshakeTimeout", "P2P:AgentVersion", "P2P:ListenAddresses" })
        {
            Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
        }

        Assert.Throws<ArgumentException>(() => new P2PHost(Ed25519KeyPair.Generate(), options));
        Assert.True(new P2POptionsValidator().Validate(null, new P2POptions()).Succeeded);
    }
}
