using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Internal;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Multistream;
using Xmbl.Cluster.P2P.Noise;
using Xmbl.Cluster.P2P.Options;
using Xmbl.Cluster.P2P.Protocols;
using Xmbl.Cluster.P2P.Transport;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P;

/// <summary>Serves one protocol on an inbound stream; the stream is disposed when the handler returns.</summary>
public delegate Task P2PStreamHandler(YamuxStream stream, P2PConnection connection, CancellationToken cancellationToken);

/// <summary>A libp2p host over TCP: listens, dials, authenticates peers (Noise), multiplexes (Yamux) and dispatches streams to protocol handlers.</summary>
/// <remarks>Identify (<c>/ipfs/id/1.0.0</c>) and Ping (<c>/ipfs/ping/1.0.0</c>) are served from the start.</remarks>
public sealed class P2PHost : IAsyncDisposable
{
    // Socket reads of up to 256 KiB, and segments that take three full Noise frames, so a bulk transfer makes one
    // system call per three or four frames instead of one per frame. Reads wait for data with a zero-byte read first,
    // so an idle connection holds no read buffer.
    private const int RawReadBuffer = 256 * 1024;
    private const int RawWriteBuffer = 256 * 1024;

    private readonly Ed25519KeyPair _identity;
    private readonly P2POptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, P2PStreamHandler> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<P2PConnection, byte> _connections = new();
    private readonly List<Socket> _listeners = [];
    private readonly List<Multiaddr> _listenAddresses = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _pendingHandshakes;
    private int _connectionCount;
    private int _disposed;

    /// <summary>Creates a host with the given identity; call <see cref="StartAsync"/> or <see cref="ListenAsync"/> to accept connections.</summary>
    public P2PHost(Ed25519KeyPair identity, P2POptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _identity = identity;
        _options = options ?? new P2POptions();
        var validation = new P2POptionsValidator().Validate(null, _options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<P2PHost>();
        _time = timeProvider ?? TimeProvider.System;
        PeerId = PeerId.FromPublicKey(identity.PublicKey);
        Handle(PingProtocol.ProtocolId, PingProtocol.HandleAsync);
        Handle(IdentifyProtocol.ProtocolId, (stream, connection, ct) => IdentifyProtocol.HandleAsync(this, stream, connection, ct));
    }

    /// <summary>Our peer id.</summary>
    public PeerId PeerId { get; }

    /// <summary>Our Ed25519 identity key.</summary>
    public PublicIdentity PublicKey => _identity.PublicKey;

    /// <summary>The options in force.</summary>
    public P2POptions Options => _options;

    /// <summary>The addresses we listen on, each ending in <c>/p2p/&lt;our id&gt;</c>.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses
    {
        get
        {
            lock (_listenAddresses)
            {
                return [.. _listenAddresses];
            }
        }
    }

    /// <summary>The protocols we serve.</summary>
    public IReadOnlyCollection<string> Protocols => [.. _handlers.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Open connections.</summary>
    public IReadOnlyCollection<P2PConnection> Connections => [.. _connections.Keys];

    /// <summary>Raised for each new connection, inbound or outbound, once it is ready (on the connection's own task).</summary>
    public event Action<P2PConnection>? ConnectionOpened;

    /// <summary>An open connection to <paramref name="peer"/>, or null.</summary>
    public P2PConnection? GetConnection(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _connections.Keys.FirstOrDefault(c => c.RemotePeer.Equals(peer) && c.CloseReason is null);
    }

    /// <summary>An open connection to <paramref name="peer"/>, or a new one dialed at the first of <paramref name="addresses"/> that answers.</summary>
    /// <exception cref="IOException">No address could be reached; the message lists each failure.</exception>
    public async Task<P2PConnection> ConnectAsync(PeerId peer, IEnumerable<Multiaddr> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(addresses);
        if (GetConnection(peer) is { } open)
        {
            return open;
        }

        var failures = new List<string>();
        foreach (var address in addresses)
        {
            if (!address.TryGetTcpTarget(out _, out _, out _))
            {
                continue;
            }

            try
            {
                return await DialAsync(address.WithPeerId(peer), cancellationToken);
            }
            catch (Exception e) when (e is IOException or SocketException or TimeoutException or P2PProtocolException)
            {
                failures.Add($"{address}: {e.Message}");
            }
        }

        throw new IOException($"Could not reach {peer}: " + (failures.Count == 0 ? "no TCP address known." : string.Join("; ", failures)));
    }

    /// <summary>Serves <paramref name="protocol"/> with <paramref name="handler"/> on inbound streams (replacing a previous handler).</summary>
    public void Handle(string protocol, P2PStreamHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        ArgumentNullException.ThrowIfNull(handler);
        if (!protocol.StartsWith('/') || protocol.Length > 256)
        {
            throw new ArgumentException("A protocol id starts with '/' and is at most 256 characters.", nameof(protocol));
        }

        _handlers[protocol] = handler;
    }

    /// <summary>Listens on every address in <see cref="P2POptions.ListenAddresses"/>.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var address in _options.ListenAddresses)
        {
            await ListenAsync(Multiaddr.Parse(address), cancellationToken);
        }
    }

    /// <summary>Listens on a TCP multiaddr (port 0 picks a free port); returns the bound address with our peer id.</summary>
    public Task<Multiaddr> ListenAsync(Multiaddr address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        cancellationToken.ThrowIfCancellationRequested();
        if (!address.TryGetTcpTarget(out var host, out var port, out _) || !IPAddress.TryParse(host, out var ip))
        {
            throw new ArgumentException($"Listening needs an /ip4 or /ip6 TCP address, not {address}.", nameof(address));
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(ip, port));
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var bound = Multiaddr.FromEndPoint((IPEndPoint)socket.LocalEndPoint!).WithPeerId(PeerId);
        lock (_listenAddresses)
        {
            _listeners.Add(socket);
            _listenAddresses.Add(bound);
        }

        P2PLog.Listening(_logger, bound.ToString());
        _ = AcceptLoopAsync(socket);
        return Task.FromResult(bound);
    }

    /// <summary>Dials a peer at a TCP multiaddr; a trailing <c>/p2p/&lt;id&gt;</c> is checked against the authenticated key.</summary>
    /// <exception cref="P2PProtocolException">The handshake failed or the remote is not the peer named in the address.</exception>
    public async Task<P2PConnection> DialAsync(Multiaddr address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.TryGetTcpTarget(out var host, out var port, out var family))
        {
            throw new ArgumentException($"Not a TCP multiaddr: {address}.", nameof(address));
        }

        if (Interlocked.Increment(ref _connectionCount) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            throw new InvalidOperationException($"{_options.MaxConnections} connections are open (P2P:MaxConnections).");
        }

        Socket? socket = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            timeout.CancelAfter(_options.HandshakeTimeout);
            socket = family == AddressFamily.Unspecified ? new Socket(SocketType.Stream, ProtocolType.Tcp) : new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            socket.NoDelay = true;
            await socket.ConnectAsync(host, port, timeout.Token);
            return await UpgradeAsync(socket, initiator: true, address.PeerId, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Decrement(ref _connectionCount);
            socket?.Dispose();
            throw new TimeoutException($"Dialing {address} did not complete within {_options.HandshakeTimeout.TotalSeconds:0.#} s (P2P:HandshakeTimeout).");
        }
        catch
        {
            Interlocked.Decrement(ref _connectionCount);
            socket?.Dispose();
            throw;
        }
    }

    /// <summary>Measures the round trip to a connected peer with <c>/ipfs/ping/1.0.0</c>.</summary>
    public Task<TimeSpan> PingAsync(P2PConnection connection, CancellationToken cancellationToken) =>
        PingProtocol.PingAsync(connection, _time, cancellationToken);

    /// <summary>Asks a connected peer who it is with <c>/ipfs/id/1.0.0</c>.</summary>
    public Task<IdentifyInfo> IdentifyAsync(P2PConnection connection, CancellationToken cancellationToken) =>
        IdentifyProtocol.RequestAsync(connection, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        lock (_listenAddresses)
        {
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }

            _listeners.Clear();
        }

        await Task.WhenAll(_connections.Keys.Select(c => c.CloseAsync("host stopping").AsTask()));
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = AcceptAsync(socket);
        }
    }

    private async Task AcceptAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        if (Interlocked.Increment(ref _connectionCount) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            P2PLog.ConnectionRefused(_logger, remote, $"{_options.MaxConnections} connections open (P2P:MaxConnections)");
            socket.Dispose();
            return;
        }

        if (Interlocked.Increment(ref _pendingHandshakes) > _options.MaxPendingHandshakes)
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            Interlocked.Decrement(ref _connectionCount);
            P2PLog.ConnectionRefused(_logger, remote, $"{_options.MaxPendingHandshakes} handshakes in progress (P2P:MaxPendingHandshakes)");
            socket.Dispose();
            return;
        }

        Exception? failure = null;
        try
        {
            socket.NoDelay = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(_options.HandshakeTimeout);
            try
            {
                await UpgradeAsync(socket, initiator: false, expectedRemote: null, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                throw new TimeoutException($"no handshake within {_options.HandshakeTimeout.TotalSeconds:0.#} s (P2P:HandshakeTimeout)");
            }
        }
        catch (Exception e) when (e is P2PProtocolException or TimeoutException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            failure = e;
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHandshakes);
        }

        // Logged once the slot is free: whoever acts on the log (an operator, a test) finds it free.
        if (failure is not null)
        {
            Interlocked.Decrement(ref _connectionCount);
            P2PLog.HandshakeFailed(_logger, remote, failure.Message);
            socket.Dispose();
        }
    }

    private async Task<P2PConnection> UpgradeAsync(Socket socket, bool initiator, PeerId? expectedRemote, CancellationToken cancellationToken)
    {
        var network = new NetworkStream(socket, ownsSocket: false);
        var raw = new DuplexPipe(
            PipeReader.Create(network, new StreamPipeReaderOptions(bufferSize: RawReadBuffer, minimumReadSize: 16 * 1024, leaveOpen: true, useZeroByteReads: true)),
            PipeWriter.Create(network, new StreamPipeWriterOptions(minimumBufferSize: RawWriteBuffer, leaveOpen: true)));
        if (initiator)
        {
            if (await MultistreamSelect.SelectAsync(raw.Input, raw.Output, [NoiseHandshake.ProtocolId], cancellationToken) is null)
            {
                throw new P2PProtocolException("The remote does not speak /noise.");
            }
        }
        else
        {
            await MultistreamSelect.HandleAsync(raw.Input, raw.Output, p => p == NoiseHandshake.ProtocolId, cancellationToken);
        }

        NoiseSession noise;
        using (var handshake = new NoiseHandshake(_identity, initiator, expectedRemote))
        {
            noise = await handshake.RunAsync(raw.Input, raw.Output, cancellationToken);
        }

        var channel = new NoiseChannel(raw, noise);
        try
        {
            // Early muxer negotiation: we list yamux in our payload; when the remote listed muxers too, both sides
            // take yamux from the other's list and skip multistream-select.
            if (noise.RemoteSentMuxerList && !noise.RemoteSupportsYamux)
            {
                throw new P2PProtocolException("The remote offers no muxer we speak (only /yamux/1.0.0 is supported).");
            }

            if (!noise.RemoteSentMuxerList)
            {
                if (initiator)
                {
                    if (await MultistreamSelect.SelectAsync(channel.Input, channel.Output, [NoiseHandshake.YamuxProtocol], cancellationToken) is null)
                    {
                        throw new P2PProtocolException("The remote does not speak /yamux/1.0.0.");
                    }
                }
                else
                {
                    await MultistreamSelect.HandleAsync(channel.Input, channel.Output, p => p == NoiseHandshake.YamuxProtocol, cancellationToken);
                }
            }
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }

        var local = Multiaddr.FromEndPoint((IPEndPoint)socket.LocalEndPoint!);
        var remote = Multiaddr.FromEndPoint((IPEndPoint)socket.RemoteEndPoint!);
        P2PConnection? connection = null;
        var session = new YamuxSession(channel, isClient: initiator, _options, _time, (id, reason) =>
            P2PLog.StreamRefused(_logger, id, connection?.RemotePeer.ToString() ?? "?", reason));
        connection = new P2PConnection(socket, channel, session, noise.RemotePeer, noise.RemoteKey, initiator, local, remote);
        _connections[connection] = 0;
        session.Start();
        P2PLog.ConnectionOpened(_logger, initiator ? "to" : "from", remote.ToString(), noise.RemotePeer.ToString());
        _ = ServeAsync(connection);
        var opened = ConnectionOpened;
        if (opened is not null)
        {
            _ = Task.Run(() => opened(connection), CancellationToken.None);
        }

        return connection;
    }

    private async Task ServeAsync(P2PConnection connection)
    {
        var session = connection.Session;
        while (await session.AcceptStreamAsync(CancellationToken.None) is { } stream)
        {
            _ = ServeStreamAsync(stream, connection);
        }

        await connection.Closed;
        _connections.TryRemove(connection, out _);
        Interlocked.Decrement(ref _connectionCount);
        if (session.ClosedForViolation)
        {
            P2PLog.ProtocolViolation(_logger, connection.RemoteAddress.ToString(), connection.RemotePeer.ToString(), session.CloseReason ?? "");
        }
        else
        {
            P2PLog.ConnectionClosed(_logger, connection.RemoteAddress.ToString(), connection.RemotePeer.ToString(), session.CloseReason ?? "");
        }
    }

    private async Task ServeStreamAsync(YamuxStream stream, P2PConnection connection)
    {
        P2PStreamHandler? handler = null;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.Closing))
            {
                timeout.CancelAfter(_options.StreamNegotiationTimeout);
                stream.Protocol = await MultistreamSelect.HandleAsync(stream.Input, stream.Output, p => _handlers.ContainsKey(p), timeout.Token);
            }

            handler = _handlers[stream.Protocol];
        }
        catch (Exception e) when (e is P2PProtocolException or OperationCanceledException or IOException or InvalidOperationException)
        {
            P2PLog.StreamNegotiationFailed(_logger, connection.RemotePeer.ToString(), e is OperationCanceledException ? $"no protocol within {_options.StreamNegotiationTimeout.TotalSeconds:0.#} s (P2P:StreamNegotiationTimeout)" : e.Message);
            stream.Reset();
            await stream.DisposeAsync();
            return;
        }

        try
        {
            await handler(stream, connection, connection.Closing);
        }
        catch (Exception e)
        {
            if (!connection.Closing.IsCancellationRequested)
            {
                P2PLog.HandlerFailed(_logger, stream.Protocol, connection.RemotePeer.ToString(), e);
            }

            stream.Reset();
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }
}
