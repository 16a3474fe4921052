using Microsoft.Extensions.Options;
using Xmbl.Cluster.Storage.Transport.Relay;

namespace Xmbl.Cluster.Storage.Options;

/// <summary>
/// The shard relay, bound from <c>Xmbl:Storage:Relay</c>: a silo that accepts no connections (behind NAT) sets
/// <see cref="Via"/> to a reachable silo, keeps <see cref="Tunnels"/> outbound connections open to it, and other members
/// reach its shards through that silo. Every silo relays for others unless <see cref="Serve"/> is false.
/// </summary>
public sealed class ShardRelayOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Xmbl:Storage:Relay";

    /// <summary>The default number of idle tunnels a relayed silo keeps open.</summary>
    public const int DefaultTunnels = 4;

    /// <summary>The most tunnels a relayed silo may keep (and a relay holds per relayed silo), by default.</summary>
    public const int DefaultMaxTunnelsPerSilo = 64;

    /// <summary>The default pause after a failed tunnel dial: 2 seconds.</summary>
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>The default wait of a relayed request for a free tunnel: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTunnelWait = TimeSpan.FromSeconds(10);

    /// <summary>The default TCP keep-alive interval on tunnels (keeps NAT mappings open): 30 seconds.</summary>
    public static readonly TimeSpan DefaultKeepAlive = TimeSpan.FromSeconds(30);

    /// <summary>The base URL of the reachable silo that relays this silo's shard traffic; empty (the default) when this silo is reachable itself.</summary>
    public string Via { get; set; } = "";

    /// <summary>How many idle tunnels this silo keeps open to <see cref="Via"/>; each carries one shard request at a time. Default <see cref="DefaultTunnels"/>.</summary>
    public int Tunnels { get; set; } = DefaultTunnels;

    /// <summary>The pause after a tunnel could not be opened before the next try. Default <see cref="DefaultRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = DefaultRetryDelay;

    /// <summary>TCP keep-alive interval of the tunnels, so a NAT keeps idle ones mapped. Default <see cref="DefaultKeepAlive"/>.</summary>
    public TimeSpan KeepAlive { get; set; } = DefaultKeepAlive;

    /// <summary>Whether this silo relays for silos that name it in their <see cref="Via"/>. Default true.</summary>
    public bool Serve { get; set; } = true;

    /// <summary>As a relay: the most idle tunnels held for one relayed silo (more are refused with 429). Default <see cref="DefaultMaxTunnelsPerSilo"/>.</summary>
    public int MaxTunnelsPerSilo { get; set; } = DefaultMaxTunnelsPerSilo;

    /// <summary>As a relay: how long a relayed request waits for a free tunnel before it is answered 503. Default <see cref="DefaultTunnelWait"/>.</summary>
    public TimeSpan TunnelWait { get; set; } = DefaultTunnelWait;

    /// <summary>The relay address as a URI, when <see cref="Via"/> is set.</summary>
    public Uri? ViaUri => Via.Length == 0 ? null : new Uri(Via.EndsWith('/') ? Via : Via + "/", UriKind.Absolute);
}

/// <summary>Checks <see cref="ShardRelayOptions"/> at startup.</summary>
public sealed class ShardRelayOptionsValidator : IValidateOptions<ShardRelayOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ShardRelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string S = ShardRelayOptions.SectionName;
        var failures = new List<string>();
        if (options.Via.Length > 0
            && (!Uri.TryCreate(options.Via, UriKind.Absolute, out var via) || (via.Scheme != Uri.UriSchemeHttp && via.Scheme != Uri.UriSchemeHttps)
                || via.Query.Length > 0 || via.Fragment.Length > 0))
        {
            failures.Add($"{S}:Via is '{options.Via}'; set it to the absolute http(s) base URL of a reachable silo, or leave it empty.");
        }

        if (options.Tunnels is < 1 or > ShardRelay.MaxTunnels)
        {
            failures.Add($"{S}:Tunnels is {options.Tunnels}; set it between 1 and {ShardRelay.MaxTunnels}.");
        }

        if (options.MaxTunnelsPerSilo is < 1 or > 10_000)
        {
            failures.Add($"{S}:MaxTunnelsPerSilo is {options.MaxTunnelsPerSilo}; set it between 1 and 10000.");
        }

        if (options.RetryDelay <= TimeSpan.Zero)
        {
            failures.Add($"{S}:RetryDelay is {options.RetryDelay}; set it to a positive duration such as 00:00:02.");
        }

        if (options.TunnelWait <= TimeSpan.Zero)
        {
            failures.Add($"{S}:TunnelWait is {options.TunnelWait}; set it to a positive duration such as 00:00:10.");
        }

        if (options.KeepAlive < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{S}:KeepAlive is {options.KeepAlive}; set it to at least one second, such as 00:00:30.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
