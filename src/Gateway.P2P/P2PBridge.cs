using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.P2P;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>
/// The gateway's libp2p front door: listens on the configured port and serves the <c>/xmbl/…</c> protocols to public
/// peers, each authenticated by its Noise-verified Ed25519 key, which is its account (did:key). A peer that breaks a
/// protocol's rules loses its own connection, with the reason logged; other peers are not affected.
/// </summary>
public sealed partial class P2PBridge : IHostedService
{
    private readonly P2PHost _host;
    private readonly P2PBridgeOptions _options;
    private readonly ILogger<P2PBridge> _logger;
    private readonly ConcurrentDictionary<P2PConnection, int> _open = new();
    private Multiaddr? _address;

    /// <summary>Creates the bridge; the protocols register themselves through <see cref="Serve"/>.</summary>
    public P2PBridge(P2PHost host, IOptions<P2PBridgeOptions> options, IEnumerable<IBridgeProtocol> protocols, ILogger<P2PBridge> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(protocols);
        _host = host;
        _options = options.Value;
        _logger = logger;
        foreach (var protocol in protocols.Where(p => p.Enabled))
        {
            Serve(protocol);
        }
    }

    /// <summary>The bridge's multiaddr, <c>/ip4/…/tcp/…/p2p/…</c>, once it listens; null before.</summary>
    public string? Address => _address?.ToString();

    /// <summary>The gateway's peer id.</summary>
    public PeerId PeerId => _host.PeerId;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var listen = Multiaddr.Parse($"/ip4/{_options.Host}/tcp/{_options.Port ?? 0}");
        var bound = await _host.ListenAsync(listen, cancellationToken);
        var shown = _options.AdvertisedHost ?? (IPAddress.Parse(_options.Host).Equals(IPAddress.Any) ? "127.0.0.1" : _options.Host);
        bound.WithoutPeerId().TryGetTcpTarget(out _, out var port, out _);
        _address = Multiaddr.Parse($"/ip4/{shown}/tcp/{port}").WithPeerId(_host.PeerId);
        BridgeLog.Listening(_logger, _address.ToString(), string.Join(", ", _host.Protocols.Where(p => p.StartsWith("/xmbl/", StringComparison.Ordinal))));
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Serve(IBridgeProtocol protocol) =>
        _host.Handle(protocol.Id, (stream, connection, ct) => RunAsync(protocol, stream, connection, ct));

    private async Task RunAsync(IBridgeProtocol protocol, YamuxStream stream, P2PConnection connection, CancellationToken ct)
    {
        var open = _open.AddOrUpdate(connection, static (c, self) => { self.ForgetWhenClosed(c); return 1; }, static (_, n, _) => n + 1, this);
        try
        {
            if (open > _options.MaxStreamsPerConnection)
            {
                BridgeLog.StreamFlood(_logger, connection.RemoteKey.Did, connection.RemoteAddress.ToString(), _options.MaxStreamsPerConnection);
                await connection.CloseAsync($"stream flood: more than {_options.MaxStreamsPerConnection} /xmbl streams open at once");
                return;
            }

            await protocol.ServeAsync(stream, new BridgePeer(connection.RemoteKey.Did, connection), ct);
            await stream.Output.FlushAsync(ct);
            await stream.CloseWriteAsync();
        }
        catch (Exception e) when (Violation(e) is { } violation)
        {
            BridgeLog.PeerViolation(_logger, connection.RemoteKey.Did, connection.RemoteAddress.ToString(), protocol.Id, violation.Message);
            await connection.CloseAsync($"{protocol.Id}: {violation.Message}");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The peer reset its stream or went away, or the gateway is stopping: nobody is left to answer.
        }
        finally
        {
            _open.AddOrUpdate(connection, 0, static (_, n) => n - 1);
        }
    }

    /// <summary>The rule a peer broke, also when a layer between (the object writer reading the body) wrapped it.</summary>
    internal static BridgeProtocolException? Violation(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is BridgeProtocolException violation)
            {
                return violation;
            }
        }

        return null;
    }

    private void ForgetWhenClosed(P2PConnection connection) =>
        _ = connection.Closed.ContinueWith((_, state) => ((P2PBridge)state!)._open.TryRemove(connection, out int _), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}

/// <summary>One <c>/xmbl/…</c> protocol served by the bridge.</summary>
public interface IBridgeProtocol
{
    /// <summary>The protocol id, e.g. <c>/xmbl/job/1.0.0</c>.</summary>
    string Id { get; }

    /// <summary>Whether this host can serve it (the node protocol needs a silo).</summary>
    bool Enabled => true;

    /// <summary>Serves one inbound stream. Throw <see cref="BridgeProtocolException"/> when the peer breaks the rules.</summary>
    Task ServeAsync(YamuxStream stream, BridgePeer peer, CancellationToken cancellationToken);
}

/// <summary>The peer at the other end of a stream.</summary>
/// <param name="Account">Its did:key, from the Noise-verified Ed25519 key: the account it acts as.</param>
/// <param name="Connection">Its connection.</param>
public sealed record BridgePeer(string Account, P2PConnection Connection);

/// <summary>Errors as the peer sees them (codes as HTTP's).</summary>
internal static class BridgeErrors
{
    public static Messages.Error Of(int code, string message) => new() { Code = (uint)code, Message = message };

    public static Messages.Error Of(IReadOnlyDictionary<string, string[]> fields, string message)
    {
        var error = Of(400, message);
        foreach (var (field, messages) in fields)
        {
            foreach (var m in messages)
            {
                error.Fields.Add(new Messages.FieldError { Field = field, Message = m });
            }
        }

        return error;
    }

    public static ByteString Bytes(ReadOnlySpan<byte> data) => ByteString.CopyFrom(data);
}
