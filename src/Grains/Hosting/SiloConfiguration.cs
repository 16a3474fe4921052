using Microsoft.Extensions.Configuration;

namespace Xmbl.Cluster.Hosting;

/// <summary>
/// The silo's configuration keys and their short forms: command-line switches (<c>--nodes 3</c>) and
/// <c>XMBL_*</c> environment variables (<c>XMBL_NODES=3</c>). Full keys also work everywhere
/// (<c>--Xmbl:Node:Count 3</c>, <c>Xmbl__Node__Count=3</c>, appsettings.json).
/// </summary>
public static class SiloConfiguration
{
    /// <summary>
    /// The URL other members dial for a process listening on <paramref name="url"/>, with no advertised address
    /// configured: a wildcard host (0.0.0.0, [::], *, +) becomes the machine's first IPv4 address other than loopback.
    /// </summary>
    public static string AdvertisedUrl(string url) => SiloServiceCollectionExtensions.Advertised(new ConfigurationBuilder().Build(), url).Url;

    /// <summary>Key of the data directory.</summary>
    public const string DataDirectoryKey = "Xmbl:Silo:DataDirectory";

    /// <summary>Key of the PostgreSQL connection string; when set the silo runs in cluster mode.</summary>
    public const string ConnectionStringKey = "Xmbl:Persistence:ConnectionString";

    /// <summary>Key of the silo id; generated when not set.</summary>
    public const string SiloIdKey = "Xmbl:Silo:SiloId";

    /// <summary>Key of Orleans' silo-to-silo port.</summary>
    public const string SiloPortKey = "Xmbl:Silo:SiloPort";

    /// <summary>Key of Orleans' client gateway port (standalone gateways connect to it).</summary>
    public const string GatewayPortKey = "Xmbl:Silo:GatewayPort";

    /// <summary>Key of the cluster id (Orleans' cluster and service id); silos with the same database and id form one cluster.</summary>
    public const string ClusterIdKey = "Xmbl:Silo:ClusterId";

    /// <summary>Key of the IP address other silos dial (cluster mode); defaults to the host of the silo's URL.</summary>
    public const string AdvertisedAddressKey = "Xmbl:Silo:AdvertisedAddress";

    /// <summary>Key that leaves the schema to the operator: the silo checks it but applies nothing.</summary>
    public const string NoMigrateKey = "Xmbl:Persistence:NoMigrate";

    /// <summary>Section bound to Orleans' <c>ClusterMembershipOptions</c> (failure detection), e.g. <c>Xmbl:Silo:Membership:ProbeTimeout</c>.</summary>
    public const string MembershipSection = "Xmbl:Silo:Membership";

    /// <summary>Orleans' conventional silo port.</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>Orleans' conventional gateway port.</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>The default cluster id.</summary>
    public const string DefaultClusterId = "xmbl";

    /// <summary>The default data directory, relative to the working directory.</summary>
    public const string DefaultDataDirectory = "./data";

    /// <summary>The default address of an embedded silo (gateway, API and dashboard).</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Short switch → configuration key.</summary>
    public static IReadOnlyDictionary<string, string> Switches { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--data"] = DataDirectoryKey,
        ["--postgres"] = ConnectionStringKey,
        ["--silo-id"] = SiloIdKey,
        ["--silo-port"] = SiloPortKey,
        ["--gateway-port"] = GatewayPortKey,
        ["--cluster-id"] = ClusterIdKey,
        ["--advertise"] = AdvertisedAddressKey,
        ["--cluster-secret"] = ClusterClientConfiguration.ClusterSecretKey,
        [NoMigrateSwitch] = NoMigrateKey,
        ["--nodes"] = "Xmbl:Node:Count",
        ["--cpu"] = "Xmbl:Node:Cores",
        ["--memory"] = "Xmbl:Node:Memory",
        ["--storage"] = "Xmbl:Node:Storage",
        ["--gpu"] = "Xmbl:Node:Gpu",
        ["--price"] = "Xmbl:Node:PricePerMillionFuel",
        ["--storage-price"] = "Xmbl:Node:PricePerGbMonth",
        ["--operator"] = "Xmbl:Node:Operator",
        ["--concurrency"] = "Xmbl:Node:Concurrency",
        ["--operator-did"] = "Xmbl:Gateway:Operator",
        [TrustLoopbackSwitch] = "Xmbl:Gateway:TrustLoopback",
        ["--engine"] = "Xmbl:Compute:Engine",
        ["--grpc-urls"] = "Xmbl:Gateway:GrpcUrl",
        ["--p2p-port"] = "Xmbl:Gateway:P2P:Port",
    };

    /// <summary>A switch that may stand alone (<c>--trust-loopback</c> means <c>--trust-loopback true</c>).</summary>
    public const string TrustLoopbackSwitch = "--trust-loopback";

    /// <summary>A switch that may stand alone: the silo checks the schema but applies nothing.</summary>
    public const string NoMigrateSwitch = "--no-migrate";

    /// <summary>
    /// Adds the short forms: <c>XMBL_DATA</c>-style environment variables first, then the switches, so the command line wins.
    /// </summary>
    public static IConfigurationBuilder AddSiloShortForms(this IConfigurationBuilder builder, string[] args) =>
        builder.AddShortForms(args, Switches, Flags);

    /// <summary>Adds <paramref name="switches"/> as <c>XMBL_*</c> environment variables and command-line switches; <paramref name="flags"/> may stand alone.</summary>
    internal static IConfigurationBuilder AddShortForms(this IConfigurationBuilder builder, string[] args, IReadOnlyDictionary<string, string> switches, IReadOnlySet<string> flags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var fromEnvironment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (flag, key) in switches)
        {
            var variable = "XMBL_" + flag[2..].Replace('-', '_').ToUpperInvariant();
            if (Environment.GetEnvironmentVariable(variable) is { } value)
            {
                fromEnvironment[key] = value;
            }
        }

        builder.AddInMemoryCollection(fromEnvironment);
        builder.AddCommandLine(ExpandFlags(args, flags), new Dictionary<string, string>(switches, StringComparer.Ordinal));
        return builder;
    }

    // The configuration reader takes the next argument as a switch's value; a bare flag gets an explicit "true".
    private static string[] ExpandFlags(string[] args, IReadOnlySet<string> flags)
    {
        var expanded = new List<string>(args.Length + 1);
        for (var i = 0; i < args.Length; i++)
        {
            expanded.Add(args[i]);
            if (flags.Contains(args[i]) && (i + 1 == args.Length || args[i + 1].StartsWith('-')))
            {
                expanded.Add("true");
            }
        }

        return [.. expanded];
    }

    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { TrustLoopbackSwitch, NoMigrateSwitch };
}
