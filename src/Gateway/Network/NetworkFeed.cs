using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Gateway.Network;

/// <summary>
/// The network page's live feed, independent of the transport: streams subscribe, get the current state as a snapshot,
/// then every change. One <see cref="INetworkSource"/> reads the cluster for all streams, and only while any is open;
/// each value is serialized once and fanned out. Each stream has a bounded queue: a stream that falls behind is ended
/// (its client reconnects and gets a fresh snapshot) rather than holding memory or slowing the others.
/// </summary>
public sealed partial class NetworkFeed : IDisposable
{
    private readonly INetworkSource _source;
    private readonly NetworkFeedOptions _options;
    private readonly JsonSerializerOptions _json;
    private readonly ILogger<NetworkFeed> _logger;
    private readonly Lock _gate = new();
    private readonly List<NetworkSubscription> _subscribers = [];
    private readonly Dictionary<(string Kind, string? Key), NetworkEvent> _latest = [];
    private long _lastId;
    private Run? _run;
    private bool _disposed;

    /// <summary>Creates the feed.</summary>
    /// <param name="source">What it reads.</param>
    /// <param name="options">Limits.</param>
    /// <param name="json">How payloads are written (the HTTP API's JSON options).</param>
    /// <param name="logger">Logs streams refused and ended.</param>
    public NetworkFeed(INetworkSource source, IOptions<NetworkFeedOptions> options, JsonSerializerOptions json, ILogger<NetworkFeed> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        _options = options.Value;
        _json = json;
        _logger = logger;
    }

    /// <summary>The limits in force.</summary>
    public NetworkFeedOptions Options => _options;

    /// <summary>Streams open now.</summary>
    public int Subscribers
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Whether the source is running (from the first stream until the last one closes).</summary>
    public bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _run is not null;
            }
        }
    }

    /// <summary>
    /// Opens a stream with the current state queued first; null when <see cref="NetworkFeedOptions.MaxStreams"/> are
    /// open or the feed is closed (the host is stopping).
    /// </summary>
    /// <returns>The subscription; dispose it to close the stream.</returns>
    public NetworkSubscription? TrySubscribe()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }

            if (_subscribers.Count >= _options.MaxStreams)
            {
                LogRefused(_options.MaxStreams);
                return null;
            }

            var subscription = new NetworkSubscription(this, _options.StreamBuffer);
            foreach (var latest in _latest.Values.OrderBy(e => e.Id))
            {
                // The validator keeps the buffer larger than the snapshot can be.
                subscription.TryWrite(latest);
            }

            _subscribers.Add(subscription);
            if (_run is null)
            {
                _run = new Run(this);
                _run.Start();
            }

            return subscription;
        }
    }

    /// <summary>Closes the feed: every stream's events complete (so responses end and the host can stop) and no stream opens again.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var subscription in _subscribers)
            {
                subscription.Complete();
            }

            _subscribers.Clear();
            StopLocked();
        }
    }

    internal void Remove(NetworkSubscription subscription)
    {
        lock (_gate)
        {
            if (_subscribers.Remove(subscription) && _subscribers.Count == 0)
            {
                StopLocked();
            }
        }
    }

    private void StopLocked()
    {
        _run?.Stop();
        _run = null;

        // Values go stale while nobody listens: the next run publishes afresh.
        _latest.Clear();
    }

    private void Publish(Run run, string kind, string? key, object payload)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(payload);
        var json = JsonSerializer.SerializeToUtf8Bytes(payload, payload.GetType(), _json);
        List<NetworkSubscription>? behind = null;
        lock (_gate)
        {
            // A run stopped by the last stream's close may still be finishing a read: its values go nowhere.
            if (!ReferenceEquals(run, _run))
            {
                return;
            }

            if (_latest.TryGetValue((kind, key), out var previous) && previous.Json.Span.SequenceEqual(json))
            {
                return;
            }

            var change = new NetworkEvent(++_lastId, kind, key, payload, json);
            _latest[(kind, key)] = change;
            foreach (var subscription in _subscribers)
            {
                if (!subscription.TryWrite(change))
                {
                    (behind ??= []).Add(subscription);
                }
            }
        }

        if (behind is not null)
        {
            foreach (var subscription in behind)
            {
                LogFellBehind(_options.StreamBuffer);
                subscription.Complete();
                Remove(subscription);
            }
        }
    }

    private void Forget(Run run, string kind, string key)
    {
        lock (_gate)
        {
            if (ReferenceEquals(run, _run))
            {
                _latest.Remove((kind, key));
            }
        }
    }

    [LoggerMessage(EventId = 3500, Level = LogLevel.Warning, Message = "Network feed: a stream was refused, {MaxStreams} are open (Xmbl:Gateway:Network:MaxStreams)")]
    private partial void LogRefused(int maxStreams);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "Network feed: a stream fell {Buffer} events behind and was ended; its client resumes from a snapshot")]
    private partial void LogFellBehind(int buffer);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Error, Message = "Network feed: the source stopped with an error; streams stay open and get heartbeats only until they reconnect")]
    private partial void LogSourceFailed(Exception exception);

    /// <summary>One run of the source, from the first stream to the last; its sink drops values once it is stopped.</summary>
    private sealed class Run(NetworkFeed feed) : INetworkSink
    {
        private readonly CancellationTokenSource _stop = new();

        public void Start() => _ = RunAsync();

        public void Stop()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The source had already ended.
            }
        }

        public void Publish(string kind, string? key, object payload) => feed.Publish(this, kind, key, payload);

        public void Forget(string kind, string key) => feed.Forget(this, kind, key);

        private async Task RunAsync()
        {
            try
            {
                // Off the subscriber's thread: the source's first reads must not delay the stream's start.
                await Task.Yield();
                await feed._source.RunAsync(this, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                feed.LogSourceFailed(ex);
            }
            finally
            {
                _stop.Dispose();
            }
        }
    }
}

/// <summary>One open stream of the feed: read <see cref="Events"/>; dispose to close it.</summary>
public sealed class NetworkSubscription : IDisposable
{
    private readonly NetworkFeed _feed;
    private readonly Channel<NetworkEvent> _events;

    internal NetworkSubscription(NetworkFeed feed, int capacity)
    {
        _feed = feed;
        _events = Channel.CreateBounded<NetworkEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>The snapshot, then changes; completes when the stream fell behind or the feed closed.</summary>
    public ChannelReader<NetworkEvent> Events => _events.Reader;

    /// <summary>Closes the feed: every stream's events complete (so responses end and the host can stop) and no stream opens again.</summary>
    public void Dispose()
    {
        _events.Writer.TryComplete();
        _feed.Remove(this);
    }

    internal bool TryWrite(NetworkEvent change) => _events.Writer.TryWrite(change);

    internal void Complete() => _events.Writer.TryComplete();
}
