using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>The gateway's libp2p bridge: section <c>Xmbl:Gateway:P2P</c> (docs/p2p.md). Off unless a port is set.</summary>
public sealed class P2PBridgeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Gateway:P2P";

    /// <summary>The conventional libp2p port, suggested in the docs.</summary>
    public const int ConventionalPort = 4001;

    /// <summary>TCP port to listen on for libp2p (0: any free port); null (the default) leaves the bridge off.</summary>
    public int? Port { get; set; }

    /// <summary>The interface to listen on.</summary>
    public string Host { get; set; } = "0.0.0.0";

    /// <summary>The IPv4 address shown in the multiaddr (<c>/api/cluster</c>'s <c>p2p</c>); by default the listen host,
    /// or 127.0.0.1 when that is 0.0.0.0.</summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>The largest protobuf message accepted on <c>/xmbl/object</c> (job submissions are bounded by
    /// <c>Xmbl:Compute:MaxJobRequestBytes</c> instead, as over REST).</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>The largest object body frame accepted from a peer, and the size of the frames the gateway sends.</summary>
    public int MaxFrameBytes { get; set; } = 1024 * 1024;

    /// <summary>How many <c>/xmbl/…</c> streams one connection may have open at once; one more closes the connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 32;

    /// <summary>How long an edge node has to answer one shard request (put, get, delete) before it counts as unavailable.</summary>
    public TimeSpan EdgeShardTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most shard-request bytes queued for one edge node at once; more fail at once as an unavailable node
    /// (one shard is always let through, whatever its size).</summary>
    public long EdgeShardQueueBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>On a standalone gateway: the base URL at which silos reach its shard endpoints, announced as its edge
    /// nodes' address; by default the gateway's first listening URL (a wildcard host replaced by the machine's first
    /// IPv4 address, as a silo does).</summary>
    public string? EdgeShardUrl { get; set; }
}

/// <summary>Checks <see cref="P2PBridgeOptions"/> at start; a bad value stops the process naming the key.</summary>
internal sealed class P2PBridgeOptionsValidator : IValidateOptions<P2PBridgeOptions>
{
    public ValidateOptionsResult Validate(string? name, P2PBridgeOptions options)
    {
        var failures = new List<string>();
        const string S = P2PBridgeOptions.SectionName;
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{S}:Port must be from 0 to 65535, or unset to leave the libp2p bridge off (got {options.Port}).");
        }

        if (!System.Net.IPAddress.TryParse(options.Host, out var host) || host.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            failures.Add($"{S}:Host must be an IPv4 address such as 0.0.0.0 or 127.0.0.1 (got '{options.Host}').");
        }

        if (options.AdvertisedHost is { } advertised && (!System.Net.IPAddress.TryParse(advertised, out var a) || a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork))
        {
            failures.Add($"{S}:AdvertisedHost must be an IPv4 address (got '{advertised}').");
        }

        if (options.MaxMessageBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add($"{S}:MaxMessageBytes must be from 1024 to 16777216 (got {options.MaxMessageBytes}).");
        }

        if (options.MaxFrameBytes is < 4096 or > 16 * 1024 * 1024)
        {
            failures.Add($"{S}:MaxFrameBytes must be from 4096 to 16777216 (got {options.MaxFrameBytes}).");
        }

        if (options.MaxStreamsPerConnection is < 1 or > 4096)
        {
            failures.Add($"{S}:MaxStreamsPerConnection must be from 1 to 4096 (got {options.MaxStreamsPerConnection}).");
        }

        if (options.EdgeShardTimeout < TimeSpan.FromSeconds(1) || options.EdgeShardTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{S}:EdgeShardTimeout must be from 00:00:01 to 00:10:00 (got {options.EdgeShardTimeout}).");
        }

        if (options.EdgeShardQueueBytes is < 1024 * 1024 or > 1024L * 1024 * 1024)
        {
            failures.Add($"{S}:EdgeShardQueueBytes must be from 1048576 to 1073741824 (got {options.EdgeShardQueueBytes}).");
        }

        if (options.EdgeShardUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"{S}:EdgeShardUrl must be an absolute http or https URL such as http://10.0.0.5:5090 (got '{url}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
