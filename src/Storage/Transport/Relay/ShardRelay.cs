namespace Xmbl.Cluster.Storage.Transport.Relay;

/// <summary>The shard relay's routes and wire constants (see <see cref="Options.ShardRelayOptions"/>).</summary>
public static class ShardRelay
{
    /// <summary>The route prefix of the relay: <c>{prefix}/{silo}/.tunnel</c> opens a tunnel, <c>{prefix}/{silo}/{shard route}</c> is forwarded.</summary>
    public const string RoutePrefix = "/internal/relay";

    /// <summary>The path segment, after the silo, that opens a tunnel (a silo name never starts with '.').</summary>
    public const string TunnelSegment = ".tunnel";

    /// <summary>The protocol named in the tunnel request's <c>Upgrade</c> header.</summary>
    public const string UpgradeProtocol = "xmbl-shard-relay";

    /// <summary>The most tunnels one relayed silo may keep open (<see cref="Options.ShardRelayOptions.Tunnels"/>).</summary>
    public const int MaxTunnels = 64;

    /// <summary>The base address a relayed silo's nodes announce: <c>{via}/internal/relay/{silo}/</c>.</summary>
    public static Uri AddressFor(Uri via, string silo)
    {
        ArgumentNullException.ThrowIfNull(via);
        if (!IsValidSiloName(silo))
        {
            throw new ArgumentException($"'{silo}' cannot be relayed: a relayed silo's id is 1-200 characters of [A-Za-z0-9._-] and does not start with '.'.", nameof(silo));
        }

        var basePath = via.AbsolutePath.EndsWith('/') ? via.AbsolutePath : via.AbsolutePath + "/";
        return new UriBuilder(via) { Path = $"{basePath}{RoutePrefix.TrimStart('/')}/{silo}/" }.Uri;
    }

    /// <summary>Whether <paramref name="silo"/> can name a relayed silo in a URL path: 1-200 characters of <c>[A-Za-z0-9._-]</c>, not starting with '.'.</summary>
    public static bool IsValidSiloName(string? silo)
    {
        if (string.IsNullOrEmpty(silo) || silo.Length > 200 || silo[0] == '.')
        {
            return false;
        }

        foreach (var c in silo)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
