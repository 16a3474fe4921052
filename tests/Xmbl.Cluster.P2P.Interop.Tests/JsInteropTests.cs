using System.Security.Cryptography;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Options;
using Xmbl.Cluster.P2P.Protocols;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>Our stack against a real js-libp2p 3.x node, in both directions.</summary>
[Trait("Suite", "Interop")]
public sealed class JsInteropTests : IAsyncLifetime
{
    private const string Echo = "/xmbl-test/echo/1.0.0";
    private const string Sink = "/xmbl-test/sink/1.0.0";
    private const int Transfer = 64 << 20;
    private readonly Ed25519KeyPair _key = Ed25519KeyPair.Generate();
    private P2PHost _host = null!;
    private Multiaddr _address = null!;
    private JsPeer _js = null!;

    public async Task InitializeAsync()
    {
        if (JsPeer.MissingReason is { } reason)
        {
            // Reached only under CI=true (the attribute skips elsewhere): fail loudly with what is missing.
            throw new InvalidOperationException("Interop tests cannot run: " + reason);
        }

        _host = new P2PHost(_key);
        _host.Handle(Echo, async (stream, _, ct) =>
        {
            await stream.CopyToAsync(stream, 256 * 1024, ct);
            await stream.CloseWriteAsync();
        });
        _host.Handle(Sink, async (stream, _, ct) =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[256 * 1024];
            long total = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }

            var reply = new byte[40];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(reply, total);
            hash.GetHashAndReset().CopyTo(reply, 8);
            await stream.WriteAsync(reply, ct);
            await stream.CloseWriteAsync();
        });
        _address = await _host.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None);
        _js = await JsPeer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_js is not null)
        {
            await _js.DisposeAsync();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _key.Dispose();
    }

    [InteropFact]
    public async Task JsDialsUs_PingAndIdentify_Succeed()
    {
        var ping = await _js.CommandAsync("ping", new { addr = _address.ToString() });
        Assert.True(ping["rtt"]!.GetValue<double>() >= 0);

        var info = await _js.CommandAsync("peerInfo", new { peerId = _host.PeerId.ToString() });
        var protocols = info["protocols"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Contains(PingProtocol.ProtocolId, protocols);
        Assert.Contains(IdentifyProtocol.ProtocolId, protocols);
        Assert.Contains(Echo, protocols);
        Assert.Equal("xmbl-cluster/1.0", info["agentVersion"]!.GetValue<string>());
        var connection = Assert.Single(_host.Connections);
        Assert.Equal(_js.PeerId, connection.RemotePeer.ToString());
        Assert.False(connection.IsInitiator);
    }

    [InteropFact]
    public async Task WeDialJs_PingAndIdentify_Succeed()
    {
        await using var connection = await _host.DialAsync(Multiaddr.Parse(_js.Address), CancellationToken.None);
        Assert.Equal(_js.PeerId, connection.RemotePeer.ToString());
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await _host.PingAsync(connection, CancellationToken.None) < TimeSpan.FromSeconds(5));
        }

        var info = await _host.IdentifyAsync(connection, CancellationToken.None);
        Assert.Equal(_js.PeerId, info.PeerId.ToString());
        Assert.Contains(PingProtocol.ProtocolId, info.Protocols);
        Assert.Contains(Echo, info.Protocols);
        Assert.Contains(Multiaddr.Parse(_js.Address).WithoutPeerId(), info.ListenAddresses);
        Assert.Equal("ipfs/0.1.0", info.ProtocolVersion);
        Assert.Contains("js-libp2p", info.AgentVersion, StringComparison.Ordinal);

        // js saw our side through identify too.
        var ours = await _js.CommandAsync("peerInfo", new { peerId = _host.PeerId.ToString() });
        Assert.Equal("xmbl-cluster/1.0", ours["agentVersion"]!.GetValue<string>());
    }

    [InteropFact]
    public async Task WeSend64MiB_ThroughJsEcho_ComesBackByteIdentical()
    {
        await using var connection = await _host.DialAsync(Multiaddr.Parse(_js.Address), CancellationToken.None);
        await using var stream = await connection.OpenStreamAsync(Echo, CancellationToken.None);
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[256 * 1024];
            long offset = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    if (buffer[i] != Pattern(offset + i, 7))
                    {
                        throw new InvalidOperationException($"The echo differs at byte {offset + i}.");
                    }
                }

                offset += n;
            }

            return offset;
        });
        var chunk = new byte[128 * 1024];
        for (long offset = 0; offset < Transfer; offset += chunk.Length)
        {
            Fill(chunk, offset, 7);
            await stream.WriteAsync(chunk);
        }

        await stream.CloseWriteAsync();
        Assert.Equal(Transfer, await reader.WaitAsync(TimeSpan.FromMinutes(3)));
    }

    [InteropFact]
    public async Task JsSends64MiB_ToOurSink_ArrivesByteIdentical()
    {
        var reply = await _js.CommandAsync("send", new { addr = _address.ToString(), protocol = Sink, bytes = Transfer, seed = 11 }, TimeSpan.FromMinutes(3));
        var expected = new byte[40];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(expected, Transfer);
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var chunk = new byte[64 * 1024];
            for (long offset = 0; offset < Transfer; offset += chunk.Length)
            {
                Fill(chunk, offset, 11);
                hash.AppendData(chunk);
            }

            hash.GetHashAndReset().CopyTo(expected, 8);
        }

        Assert.Equal(Convert.ToHexStringLower(expected), reply["reply"]!.GetValue<string>());
    }

    [InteropFact]
    public async Task JsEchoesThroughUs_8MiB_ComesBackByteIdentical()
    {
        var reply = await _js.CommandAsync("echo", new { addr = _address.ToString(), protocol = Echo, bytes = 8 << 20, seed = 3 }, TimeSpan.FromMinutes(2));
        Assert.Equal(8 << 20, reply["received"]!.GetValue<int>());
    }

    [InteropFact]
    public async Task JsConnection_SurvivesKeepAlivePingsBothWaysAndConnectionMonitor()
    {
        using var key = Ed25519KeyPair.Generate();
        await using var host = new P2PHost(key, new P2POptions { KeepAliveInterval = TimeSpan.FromSeconds(2) });
        await using var connection = await host.DialAsync(Multiaddr.Parse(_js.Address), CancellationToken.None);
        // js pings the yamux session at once and opens a ping stream every 10 s (its connection monitor); a wrong
        // answer to either aborts the connection. We ping js's session every 2 s and need its answers.
        await Task.Delay(TimeSpan.FromSeconds(12));
        Assert.Null(connection.CloseReason);
        Assert.True(connection.Session.PingsAnswered >= 3, $"js answered {connection.Session.PingsAnswered} keep-alive pings");
        Assert.True(await host.PingAsync(connection, CancellationToken.None) < TimeSpan.FromSeconds(5));
        var peers = await _js.CommandAsync("connections");
        Assert.Contains(host.PeerId.ToString(), peers["peers"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    // Byte i of a test stream: (i * 31 + seed) & 0xff, as peer.mjs computes it.
    private static byte Pattern(long i, int seed) => (byte)((i * 31) + seed);

    private static void Fill(byte[] chunk, long offset, int seed)
    {
        for (var i = 0; i < chunk.Length; i++)
        {
            chunk[i] = Pattern(offset + i, seed);
        }
    }
}
