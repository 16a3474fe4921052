using System.Collections.Concurrent;
using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.Storage.Transport.Relay;

/// <summary>The relay's side: the idle tunnels each relayed silo keeps open here, and an HTTP client per silo that sends over them.</summary>
public sealed class ShardRelayHub : IDisposable
{
    private readonly ConcurrentDictionary<string, SiloTunnels> _silos = new(StringComparer.Ordinal);
    private readonly ShardRelayOptions _options;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Creates a hub with the limits of <paramref name="options"/>.</summary>
    public ShardRelayHub(ShardRelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Cancelled when the hub is disposed (the host stops): tunnel requests end.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The idle tunnels <paramref name="silo"/> keeps here now.</summary>
    public int IdleTunnels(string silo) => _silos.TryGetValue(silo, out var tunnels) ? tunnels.IdleCount : 0;

    internal bool HasRoom(string silo) => IdleTunnels(silo) < _options.MaxTunnelsPerSilo;

    internal bool TryAdd(string silo, RelayTunnel tunnel) => Tunnels(silo).TryAdd(tunnel);

    internal RelayTunnel Watch(string silo, Stream upgraded) => new(upgraded, Tunnels(silo).Died);

    internal HttpMessageInvoker InvokerFor(string silo) => Tunnels(silo).Invoker;

    private SiloTunnels Tunnels(string silo)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        return _silos.GetOrAdd(silo, static (s, hub) => new SiloTunnels(s, hub._options), this);
    }

    /// <summary>Closes every tunnel.</summary>
    public void Dispose()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        foreach (var tunnels in _silos.Values)
        {
            tunnels.Dispose();
        }

        _silos.Clear();
    }

    /// <summary>One relayed silo's tunnels: the idle ones, newest first, and the client whose connections they become.</summary>
    private sealed class SiloTunnels : IDisposable
    {
        private readonly LinkedList<RelayTunnel> _idle = new();
        private readonly SemaphoreSlim _available = new(0);
        private readonly string _silo;
        private readonly ShardRelayOptions _options;

        public SiloTunnels(string silo, ShardRelayOptions options)
        {
            _silo = silo;
            _options = options;
            // Each connection of this client is a tunnel taken from the idle list; it is reused for further requests
            // while the pool keeps it, and closed (ending the tunnel) when idle for long.
            Invoker = new HttpMessageInvoker(
                new SocketsHttpHandler
                {
                    ConnectCallback = (_, cancellationToken) => TakeAsync(cancellationToken),
                    UseProxy = false,
                    UseCookies = false,
                    AllowAutoRedirect = false,
                    AutomaticDecompression = System.Net.DecompressionMethods.None,
                    MaxConnectionsPerServer = options.MaxTunnelsPerSilo,
                    PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                    ConnectTimeout = Timeout.InfiniteTimeSpan,
                },
                disposeHandler: true);
        }

        public HttpMessageInvoker Invoker { get; }

        public int IdleCount
        {
            get
            {
                lock (_idle)
                {
                    return _idle.Count;
                }
            }
        }

        public bool TryAdd(RelayTunnel tunnel)
        {
            lock (_idle)
            {
                if (_idle.Count >= _options.MaxTunnelsPerSilo)
                {
                    return false;
                }

                _idle.AddFirst(tunnel);
            }

            _available.Release();
            return true;
        }

        public void Died(RelayTunnel tunnel)
        {
            lock (_idle)
            {
                _idle.Remove(tunnel);
            }
        }

        private async ValueTask<Stream> TakeAsync(CancellationToken cancellationToken)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(_options.TunnelWait);
            while (true)
            {
                try
                {
                    await _available.WaitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RelayTunnelUnavailableException(_silo, _options.TunnelWait);
                }

                // A permit whose tunnel died meanwhile finds the list shorter: wait for the next one.
                RelayTunnel? tunnel;
                lock (_idle)
                {
                    tunnel = _idle.First?.Value;
                    if (tunnel is not null)
                    {
                        _idle.RemoveFirst();
                    }
                }

                if (tunnel is not null && tunnel.TryTake())
                {
                    return tunnel;
                }
            }
        }

        public void Dispose()
        {
            Invoker.Dispose();
            RelayTunnel[] idle;
            lock (_idle)
            {
                idle = [.. _idle];
                _idle.Clear();
            }

            foreach (var tunnel in idle)
            {
                tunnel.Dispose();
            }
        }
    }
}

/// <summary>No tunnel from the relayed silo became free in time (it is down, or all its tunnels are busy).</summary>
public sealed class RelayTunnelUnavailableException(string silo, TimeSpan waited)
    : IOException($"No tunnel from silo '{silo}' was free within {waited.TotalSeconds:0.#} s: the silo is not connected to this relay, or all its tunnels are busy.")
{
    /// <summary>The relayed silo.</summary>
    public string Silo { get; } = silo;
}
