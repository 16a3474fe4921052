using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>
/// docker-compose.yml as Docker Compose reads it, for what the deploy tests check: merge keys (<c>&lt;&lt;: *anchor</c>)
/// resolved, <c>${VAR}</c>, <c>${VAR:-default}</c> and <c>${VAR:?message}</c> interpolated from given variables.
/// </summary>
internal sealed partial class ComposeFile
{
    private ComposeFile(IReadOnlyDictionary<string, ComposeService> services, IReadOnlySet<string> volumes)
    {
        Services = services;
        Volumes = volumes;
    }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>The named volumes declared at the top level.</summary>
    public IReadOnlySet<string> Volumes { get; }

    /// <summary>Reads <paramref name="path"/>; a <c>${VAR:?…}</c> whose variable is not in <paramref name="variables"/> fails, as in Compose.</summary>
    public static ComposeFile Load(string path, IReadOnlyDictionary<string, string> variables)
    {
        var text = Interpolate(File.ReadAllText(path), variables);
        var stream = new YamlStream();
        using (var reader = new StringReader(text))
        {
            stream.Load(new MergingParser(new Parser(reader)));
        }

        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        foreach (var (name, node) in Mapping(root, "services"))
        {
            services[Scalar(name)] = ComposeService.From(Scalar(name), (YamlMappingNode)node);
        }

        var volumes = Mapping(root, "volumes").Select(v => Scalar(v.Key)).ToHashSet(StringComparer.Ordinal);
        return new ComposeFile(services, volumes);
    }

    internal static IEnumerable<KeyValuePair<YamlNode, YamlNode>> Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlMappingNode mapping ? mapping.Children : [];

    internal static string Scalar(YamlNode node) => ((YamlScalarNode)node).Value ?? "";

    internal static IReadOnlyList<string> List(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child switch
        {
            YamlSequenceNode sequence => [.. sequence.Children.Select(Scalar)],
            YamlScalarNode scalar => [scalar.Value ?? ""],
            _ => [],
        } : [];

    internal static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlScalarNode scalar ? scalar.Value : null;

    private static string Interpolate(string text, IReadOnlyDictionary<string, string> variables) =>
        Variable().Replace(text, m =>
        {
            var name = m.Groups["name"].Value;
            var found = variables.TryGetValue(name, out var value) && value.Length > 0;
            return m.Groups["op"].Value switch
            {
                ":-" => found ? value! : m.Groups["arg"].Value,
                ":?" => found ? value! : throw new InvalidOperationException($"docker-compose.yml needs {name}: {m.Groups["arg"].Value}"),
                _ => found ? value! : "",
            };
        });

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:-|:\?)(?<arg>[^}]*))?\}")]
    private static partial Regex Variable();
}

/// <summary>One service of <see cref="ComposeFile"/>.</summary>
internal sealed record ComposeService(
    string Name,
    string? Image,
    string? Dockerfile,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Ports,
    IReadOnlyList<string> Volumes,
    IReadOnlyList<string> HealthCheck,
    IReadOnlyDictionary<string, string> DependsOn)
{
    public static ComposeService From(string name, YamlMappingNode node)
    {
        string? dockerfile = null;
        if (node.Children.TryGetValue(new YamlScalarNode("build"), out var build) && build is YamlMappingNode b)
        {
            dockerfile = ComposeFile.Text(b, "dockerfile");
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node.Children.TryGetValue(new YamlScalarNode("environment"), out var env))
        {
            if (env is YamlMappingNode map)
            {
                foreach (var (k, v) in map.Children)
                {
                    environment[ComposeFile.Scalar(k)] = ComposeFile.Scalar(v);
                }
            }
            else if (env is YamlSequenceNode list)
            {
                foreach (var item in list.Children.Select(ComposeFile.Scalar))
                {
                    var eq = item.IndexOf('=', StringComparison.Ordinal);
                    environment[eq < 0 ? item : item[..eq]] = eq < 0 ? "" : item[(eq + 1)..];
                }
            }
        }

        var health = node.Children.TryGetValue(new YamlScalarNode("healthcheck"), out var h) && h is YamlMappingNode hm ? ComposeFile.List(hm, "test") : [];
        var dependsOn = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node.Children.TryGetValue(new YamlScalarNode("depends_on"), out var d))
        {
            if (d is YamlMappingNode dm)
            {
                foreach (var (k, v) in dm.Children)
                {
                    dependsOn[ComposeFile.Scalar(k)] = v is YamlMappingNode c ? ComposeFile.Text(c, "condition") ?? "service_started" : "service_started";
                }
            }
            else if (d is YamlSequenceNode ds)
            {
                foreach (var item in ds.Children)
                {
                    dependsOn[ComposeFile.Scalar(item)] = "service_started";
                }
            }
        }

        return new ComposeService(
            name,
            ComposeFile.Text(node, "image"),
            dockerfile,
            environment,
            ComposeFile.List(node, "command"),
            ComposeFile.List(node, "ports"),
            ComposeFile.List(node, "volumes"),
            health,
            dependsOn);
    }
}
