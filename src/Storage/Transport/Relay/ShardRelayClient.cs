using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.Storage.Transport.Relay;

/// <summary>
/// The relayed silo's side: keeps <see cref="ShardRelayOptions.Tunnels"/> idle outbound tunnels open to the relay. When
/// the relay starts using one (its first bytes arrive), a replacement is opened and the tunnel is piped into this silo's
/// own HTTP endpoint over loopback, so relayed requests meet the same shard endpoints, signatures and streaming as direct ones.
/// </summary>
public sealed class ShardRelayClient : BackgroundService
{
    private readonly ShardRelayOptions _options;
    private readonly Uri _via;
    private readonly Uri _tunnelUri;
    private readonly Uri _address;
    private readonly ShardRequestAuthenticator _authenticator;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly HttpMessageInvoker _http;
    private int _failing = -1;
    private long _served;

    /// <summary>Creates the client of the relay named by <paramref name="options"/>, for silo <paramref name="identity"/>.</summary>
    public ShardRelayClient(ShardRelayOptions options, ShardRelayIdentity identity, ShardRequestAuthenticator authenticator, IServer server, IHostApplicationLifetime lifetime, ILogger<ShardRelayClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(identity);
        _options = options;
        _via = options.ViaUri ?? throw new ArgumentException($"{ShardRelayOptions.SectionName}:Via is not set.", nameof(options));
        _address = ShardRelay.AddressFor(_via, identity.Silo);
        _tunnelUri = new Uri(_address, ShardRelay.TunnelSegment);
        _authenticator = authenticator;
        _server = server;
        _lifetime = lifetime;
        _logger = logger;
        var keepAlive = (int)Math.Ceiling(options.KeepAlive.TotalSeconds);
        _http = new HttpMessageInvoker(
            new SocketsHttpHandler
            {
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(15),
                // TCP keep-alive: a NAT drops the mapping of a connection idle for minutes, and idle is what a tunnel is.
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, keepAlive);
                        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, keepAlive);
                        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
                        await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
            disposeHandler: true);
    }

    /// <summary>The address this silo's nodes announce: the relay's path for this silo.</summary>
    public Uri Address => _address;

    /// <summary>How many tunnels the relay has used so far.</summary>
    public long TunnelsServed => Interlocked.Read(ref _served);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The loopback endpoint relayed requests are piped into exists once the server listens.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var local = LocalEndpoint();
        var slots = new Task[_options.Tunnels];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = KeepTunnelAsync(local, stoppingToken);
        }

        await Task.WhenAll(slots).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    // One slot: a tunnel waiting at the relay; once the relay uses it, it is served in the background and the slot opens another.
    private async Task KeepTunnelAsync(IPEndPoint local, CancellationToken stoppingToken)
    {
        var first = new byte[1];
        while (!stoppingToken.IsCancellationRequested)
        {
            Stream tunnel;
            try
            {
                tunnel = await OpenAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (Interlocked.Exchange(ref _failing, 1) != 1)
                {
                    StorageLog.RelayTunnelsFailing(_logger, _via, _options.RetryDelay, e);
                }

                await Delay(_options.RetryDelay, stoppingToken).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Interlocked.Exchange(ref _failing, 0) != 0)
            {
                StorageLog.RelayTunnelsOpen(_logger, _via, _address);
            }

            var opened = Environment.TickCount64;
            int read;
            try
            {
                read = await tunnel.ReadAsync(first, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                read = 0;
            }

            if (read == 0)
            {
                // Closed by the relay (it stopped, or refused the tunnel): open another, not in a tight loop.
                await tunnel.DisposeAsync().ConfigureAwait(false);
                if (Environment.TickCount64 - opened < 1000)
                {
                    await Delay(_options.RetryDelay, stoppingToken).ConfigureAwait(false);
                }

                continue;
            }

            Interlocked.Increment(ref _served);
            _ = ServeAsync(tunnel, first[0], local, stoppingToken);
        }
    }

    private async Task<Stream> OpenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _tunnelUri) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue(ShardRelay.UpgradeProtocol));
        _authenticator.Sign(request);
        var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
        {
            using (response)
            {
                var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw new IOException($"The relay answered {(int)response.StatusCode} {response.ReasonPhrase}: {(detail.Length > 300 ? detail[..300] : detail)}");
            }
        }

        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    // Pipes one tunnel into this silo's HTTP endpoint until either side closes.
    private async Task ServeAsync(Stream tunnel, byte first, IPEndPoint local, CancellationToken stoppingToken)
    {
        await using (tunnel.ConfigureAwait(false))
        {
            using var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                // From the endpoint's own address: the connection never leaves the machine.
                if (IPAddress.IsLoopback(local.Address))
                {
                    socket.Bind(new IPEndPoint(local.Address, 0));
                }

                await socket.ConnectAsync(local, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                if (e is SocketException)
                {
                    StorageLog.RelayLocalDialFailed(_logger, local.ToString(), e);
                }

                return;
            }

            await using var server = new NetworkStream(socket, ownsSocket: false);
            var buffer = ArrayPool<byte>.Shared.Rent(1);
            try
            {
                buffer[0] = first;
                await server.WriteAsync(buffer.AsMemory(0, 1), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                return;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            // Either direction ending ends the exchange: HTTP/1.1 carries no half-closed requests here.
            using var done = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var up = Pipe(tunnel, server, done);
            var down = Pipe(server, tunnel, done);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            await done.CancelAsync().ConfigureAwait(false);
            socket.Close();
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
    }

    private static async Task Pipe(Stream from, Stream to, CancellationTokenSource done)
    {
        try
        {
            await from.CopyToAsync(to, 64 * 1024, done.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The other side closed: the exchange is over.
        }
    }

    private IPEndPoint LocalEndpoint()
    {
        var addresses = _server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (!address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var uri = new Uri(address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
            var host = uri.Host.Trim('[', ']');
            var ip = host == "localhost" ? IPAddress.Loopback
                : IPAddress.TryParse(host, out var parsed) ? parsed
                : IPAddress.Loopback;
            if (ip.Equals(IPAddress.Any))
            {
                ip = IPAddress.Loopback;
            }
            else if (ip.Equals(IPAddress.IPv6Any))
            {
                ip = IPAddress.IPv6Loopback;
            }

            return new IPEndPoint(ip, uri.Port);
        }

        throw new InvalidOperationException($"{ShardRelayOptions.SectionName}:Via needs the silo to listen on an http:// URL (relayed requests are piped into it over loopback); it listens on {string.Join(", ", addresses)}.");
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
