using Microsoft.Extensions.Configuration;

namespace Xmbl.Cluster.Hosting;

/// <summary>
/// The silo's configuration keys and their short forms: command-line switches (<c>--nodes 3</c>) and
/// <c>XMBL_*</c> environment variables (<c>XMBL_NODES=3</c>). Full keys also work everywhere
/// (<c>--Xmbl:Node:Count 3</c>, <c>Xmbl__Node__Count=3</c>, appsettings.json).
/// </summary>
public static class SiloConfiguration
{
    /// <summary>Key of the data directory.</summary>
    public const string DataDirectoryKey = "Xmbl:Silo:DataDirectory";

    /// <summary>Key of the PostgreSQL connection string; when set the silo runs in cluster mode.</summary>
    public const string ConnectionStringKey = "Xmbl:Persistence:ConnectionString";

    /// <summary>Key of the silo id; generated when not set.</summary>
    public const string SiloIdKey = "Xmbl:Silo:SiloId";

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
        ["--nodes"] = "Xmbl:Node:Count",
        ["--cpu"] = "Xmbl:Node:Cores",
        ["--memory"] = "Xmbl:Node:Memory",
        ["--storage"] = "Xmbl:Node:Storage",
        ["--gpu"] = "Xmbl:Node:Gpu",
        ["--price"] = "Xmbl:Node:PricePerMillionFuel",
        ["--storage-price"] = "Xmbl:Node:PricePerGbMonth",
        ["--operator"] = "Xmbl:Node:Operator",
        ["--concurrency"] = "Xmbl:Node:Concurrency",
        ["--engine"] = "Xmbl:Compute:Engine",
    };

    /// <summary>
    /// Adds the short forms: <c>XMBL_DATA</c>-style environment variables first, then the switches, so the command line wins.
    /// </summary>
    public static IConfigurationBuilder AddSiloShortForms(this IConfigurationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var fromEnvironment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (flag, key) in Switches)
        {
            var variable = "XMBL_" + flag[2..].Replace('-', '_').ToUpperInvariant();
            if (Environment.GetEnvironmentVariable(variable) is { } value)
            {
                fromEnvironment[key] = value;
            }
        }

        builder.AddInMemoryCollection(fromEnvironment);
        builder.AddCommandLine(args, new Dictionary<string, string>(Switches, StringComparer.Ordinal));
        return builder;
    }
}
