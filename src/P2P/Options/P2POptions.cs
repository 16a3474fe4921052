namespace Xmbl.Cluster.P2P.Options;

/// <summary>Limits and timeouts of a <see cref="P2PHost"/>, bound from the <c>P2P</c> configuration section.</summary>
public sealed class P2POptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "P2P";

    /// <summary>Default of <see cref="MaxConnections"/>.</summary>
    public const int DefaultMaxConnections = 256;
    /// <summary>Default of <see cref="MaxPendingHandshakes"/>.</summary>
    public const int DefaultMaxPendingHandshakes = 64;
    /// <summary>Default of <see cref="HandshakeTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);
    /// <summary>Default of <see cref="IdleTimeout"/>: 120 s.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(120);
    /// <summary>Default of <see cref="KeepAliveInterval"/>: 30 s.</summary>
    public static readonly TimeSpan DefaultKeepAliveInterval = TimeSpan.FromSeconds(30);
    /// <summary>Default of <see cref="StreamNegotiationTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultStreamNegotiationTimeout = TimeSpan.FromSeconds(10);
    /// <summary>Default of <see cref="MaxInboundStreams"/>.</summary>
    public const int DefaultMaxInboundStreams = 256;
    /// <summary>Default of <see cref="MaxOutboundStreams"/>.</summary>
    public const int DefaultMaxOutboundStreams = 1024;
    /// <summary>Yamux's initial stream window, fixed by the spec: 256 KiB.</summary>
    public const int InitialStreamWindow = 256 * 1024;
    /// <summary>Default of <see cref="StreamReceiveWindow"/>: 1 MiB.</summary>
    public const int DefaultStreamReceiveWindow = 1024 * 1024;
    /// <summary>Largest allowed <see cref="StreamReceiveWindow"/>: 16 MiB.</summary>
    public const int MaxStreamReceiveWindow = 16 * 1024 * 1024;
    /// <summary>Default of <see cref="MaxControlBacklog"/>.</summary>
    public const int DefaultMaxControlBacklog = 4096;

    /// <summary>Addresses to listen on, as multiaddrs (<c>/ip4/0.0.0.0/tcp/4001</c>). Key <c>P2P:ListenAddresses</c>.</summary>
    public IList<string> ListenAddresses { get; } = [];

    /// <summary>Most open connections, inbound and outbound; more are refused at accept. Key <c>P2P:MaxConnections</c>.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>Most inbound connections still in their handshake; more are refused. Key <c>P2P:MaxPendingHandshakes</c>.</summary>
    public int MaxPendingHandshakes { get; set; } = DefaultMaxPendingHandshakes;

    /// <summary>Time for TCP accept to a ready Yamux session (security and muxer negotiation, Noise). Key <c>P2P:HandshakeTimeout</c>.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = DefaultHandshakeTimeout;

    /// <summary>A connection with no open stream and no frame received for this long is closed. Key <c>P2P:IdleTimeout</c>.</summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>A yamux ping goes out this often; a connection whose remote leaves one unanswered for as long is closed.
    /// Key <c>P2P:KeepAliveInterval</c>.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = DefaultKeepAliveInterval;

    /// <summary>Time for an inbound stream to name a protocol (multistream-select). Key <c>P2P:StreamNegotiationTimeout</c>.</summary>
    public TimeSpan StreamNegotiationTimeout { get; set; } = DefaultStreamNegotiationTimeout;

    /// <summary>Most streams a remote may have open to us on one connection; extra ones are reset, and a remote that
    /// keeps opening past the limit (as many refusals again) loses the connection. Key <c>P2P:MaxInboundStreams</c>.</summary>
    public int MaxInboundStreams { get; set; } = DefaultMaxInboundStreams;

    /// <summary>Most streams we open on one connection. Key <c>P2P:MaxOutboundStreams</c>.</summary>
    public int MaxOutboundStreams { get; set; } = DefaultMaxOutboundStreams;

    /// <summary>Receive window per stream, bytes: the most a remote may send ahead of our reading, so the most buffered
    /// per stream (256 KiB to 16 MiB). Key <c>P2P:StreamReceiveWindow</c>.</summary>
    public int StreamReceiveWindow { get; set; } = DefaultStreamReceiveWindow;

    /// <summary>Most control frames (ping replies, window updates, resets) queued for a remote that does not read; past it
    /// the connection is closed. Key <c>P2P:MaxControlBacklog</c>.</summary>
    public int MaxControlBacklog { get; set; } = DefaultMaxControlBacklog;

    /// <summary>The agent version sent in Identify. Key <c>P2P:AgentVersion</c>.</summary>
    public string AgentVersion { get; set; } = "xmbl-cluster/1.0";
}
