using System.Collections;
using System.Reflection;
using Orleans.Configuration;
using GatewayOptions = Xmbl.Cluster.Gateway.Api.GatewayOptions;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>
/// The configuration keys the silo and the standalone gateway read, found in the code itself: the options classes bound
/// from an <c>Xmbl:…</c> section (every public settable property, nested classes flattened, lists as one key), the
/// keys <see cref="SiloConfiguration"/> reads directly, and the switches with their <c>XMBL_*</c> variables.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>ASP.NET Core's own keys the hosts rely on (<c>--urls</c>, <c>ASPNETCORE_URLS</c>).</summary>
    public const string Urls = "urls";

    /// <summary>Every key, each with the options type that binds it (null for the keys read directly).</summary>
    public static IReadOnlyDictionary<string, Type?> All { get; } = Discover();

    /// <summary>Keys whose values are lists or sections of another library's options (entries below them are valid keys too).</summary>
    public static IReadOnlyDictionary<string, Type?> Sections { get; } = All.Where(k => k.Value is not null && IsSection(k.Value)).ToDictionary(k => k.Key, k => k.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>The silo's switches and the standalone gateway's.</summary>
    public static IReadOnlyDictionary<string, string> SiloSwitches => SiloConfiguration.Switches;

    /// <inheritdoc cref="SiloSwitches"/>
    public static IReadOnlyDictionary<string, string> GatewaySwitches => ClusterClientConfiguration.Switches;

    /// <summary>The environment variable a switch also reads (<c>--silo-id</c> → <c>XMBL_SILO_ID</c>), as the hosts derive it.</summary>
    public static string VariableOf(string flag) => "XMBL_" + flag[2..].Replace('-', '_').ToUpperInvariant();

    /// <summary>Whether <paramref name="key"/> (colon form, any case) is read by the code.</summary>
    public static bool IsKnown(string key)
    {
        if (All.ContainsKey(key))
        {
            return true;
        }

        foreach (var (section, type) in Sections)
        {
            if (key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase))
            {
                // Orleans' membership options: one of its properties; a dictionary: any name; a list: an index then anything.
                var rest = key[(section.Length + 1)..];
                return type == typeof(ClusterMembershipOptions)
                    ? typeof(ClusterMembershipOptions).GetProperty(rest, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { CanWrite: true }
                    : IsDictionary(type!) || rest.Split(':')[0].All(char.IsAsciiDigit);
            }
        }

        return false;
    }

    /// <summary>
    /// Whether an environment variable is one the host of <paramref name="switches"/> reads: an <c>XMBL_*</c> short form of
    /// one of its switches, an <c>Xmbl__Section__Key</c> key, or ASP.NET Core's URL and environment variables.
    /// </summary>
    public static bool IsKnownVariable(string name, IReadOnlyDictionary<string, string> switches)
    {
        if (name is "ASPNETCORE_URLS" or "ASPNETCORE_ENVIRONMENT")
        {
            return true;
        }

        if (name.StartsWith("XMBL_", StringComparison.Ordinal))
        {
            return switches.Keys.Any(flag => VariableOf(flag) == name);
        }

        return name.Contains("__", StringComparison.Ordinal) && IsKnown(name.Replace("__", ":", StringComparison.Ordinal));
    }

    private static Dictionary<string, Type?> Discover()
    {
        var keys = new Dictionary<string, Type?>(StringComparer.OrdinalIgnoreCase) { [Urls] = null };
        foreach (var field in typeof(SiloConfiguration).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.Name.EndsWith("Key", StringComparison.Ordinal)))
        {
            keys[(string)field.GetRawConstantValue()!] = null;
        }

        keys[ClusterClientConfiguration.ClusterSecretKey] = null;
        keys[SiloConfiguration.MembershipSection] = typeof(ClusterMembershipOptions);
        foreach (var value in SiloConfiguration.Switches.Values.Concat(ClusterClientConfiguration.Switches.Values))
        {
            keys.TryAdd(value, null);
        }

        var assemblies = new[] { typeof(NodeOptions).Assembly, typeof(StorageOptions).Assembly, typeof(GatewayOptions).Assembly };
        foreach (var type in assemblies.SelectMany(a => a.GetExportedTypes()))
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string section && section.StartsWith("Xmbl:", StringComparison.Ordinal))
            {
                AddProperties(keys, section, type);
            }
        }

        // The package limits live in Xmbl.Cluster.Services, which has no other options; AddServiceLibrary binds them.
        AddProperties(keys, Xmbl.Cluster.Services.PackageLimits.Section, typeof(Xmbl.Cluster.Services.PackageLimits));
        return keys;
    }

    private static void AddProperties(Dictionary<string, Type?> keys, string prefix, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = prefix + ":" + property.Name;
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsSection(propertyType))
            {
                keys[key] = propertyType;
            }
            else if (IsScalar(propertyType))
            {
                if (property.CanWrite)
                {
                    keys[key] = type;
                }
            }
            else if (property.CanWrite)
            {
                AddProperties(keys, key, propertyType);
            }
        }
    }

    private static bool IsDictionary(Type type) =>
        typeof(IDictionary).IsAssignableFrom(type) || type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));

    private static bool IsSection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) || type == typeof(ClusterMembershipOptions);

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(DateTimeOffset) || type == typeof(Uri);
}
