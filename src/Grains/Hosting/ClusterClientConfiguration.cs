using Microsoft.Extensions.Configuration;

namespace Xmbl.Cluster.Hosting;

/// <summary>
/// A standalone gateway's short forms, the silo's where they mean the same (<c>--postgres</c>, <c>--cluster-id</c>,
/// <c>--data</c>, <c>--operator-did</c>, <c>--trust-loopback</c>, <c>--cluster-secret</c>) and the same
/// <c>XMBL_*</c> environment variables. Full keys also work. Silo-only switches (<c>--nodes</c>, <c>--silo-port</c>, …)
/// are not accepted here, so they cannot be passed by mistake and silently ignored.
/// </summary>
public static class ClusterClientConfiguration
{
    /// <summary>Key of the secret that signs shard requests between cluster members (the silos' value).</summary>
    public const string ClusterSecretKey = "Xmbl:Storage:Transport:ClusterSecret";

    /// <summary>The default address of a standalone gateway (REST API and dashboard).</summary>
    public const string DefaultUrl = "http://127.0.0.1:5090";

    /// <summary>Short switch → configuration key.</summary>
    public static IReadOnlyDictionary<string, string> Switches { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--data"] = SiloConfiguration.DataDirectoryKey,
        ["--postgres"] = SiloConfiguration.ConnectionStringKey,
        ["--cluster-id"] = SiloConfiguration.ClusterIdKey,
        ["--cluster-secret"] = ClusterSecretKey,
        ["--operator-did"] = "Xmbl:Gateway:Operator",
        ["--p2p-port"] = "Xmbl:Gateway:P2P:Port",
        [SiloConfiguration.TrustLoopbackSwitch] = "Xmbl:Gateway:TrustLoopback",
        ["--grpc-urls"] = "Xmbl:Gateway:GrpcUrl",
    };

    /// <summary>Adds the short forms: environment variables first, then the switches, so the command line wins.</summary>
    /// <exception cref="FormatException">A silo-only switch is given.</exception>
    public static IConfigurationBuilder AddClusterClientShortForms(this IConfigurationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        foreach (var arg in args)
        {
            if (SiloConfiguration.Switches.ContainsKey(arg) && !Switches.ContainsKey(arg))
            {
                throw new FormatException($"{arg} is a silo option; a standalone gateway hosts no nodes and no silo (see \"Running a standalone gateway\" in the README).");
            }
        }

        return builder.AddShortForms(args, Switches, Flags);
    }

    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { SiloConfiguration.TrustLoopbackSwitch };
}
