using System.Text.Json;
using System.Text.RegularExpressions;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>docs/configuration.md and the shipped appsettings.json files against the keys the code binds.</summary>
public sealed partial class ConfigurationDocsTests
{
    private static readonly string Doc = File.ReadAllText(Repository.PathOf("docs/configuration.md"));

    [Fact]
    public void ConfigurationReference_NamesEveryKeyTheCodeBinds()
    {
        var missing = ConfigurationKeys.All.Keys.Where(k => !Doc.Contains($"`{k}`", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, "docs/configuration.md lacks: " + string.Join(", ", missing));
    }

    [Fact]
    public void ConfigurationReference_NamesEverySwitchAndItsEnvironmentVariable()
    {
        var switches = ConfigurationKeys.SiloSwitches.Keys.Concat(ConfigurationKeys.GatewaySwitches.Keys).Distinct().ToList();
        var missing = switches.Where(s => !Regex.IsMatch(Doc, $"`{Regex.Escape(s)}[ `]")).ToList();
        missing.AddRange(switches.Select(ConfigurationKeys.VariableOf).Where(v => !Doc.Contains($"`{v}`", StringComparison.Ordinal)));

        Assert.True(missing.Count == 0, "docs/configuration.md lacks: " + string.Join(", ", missing));
    }

    [Fact]
    public void ConfigurationReference_NamesNoKeyTheCodeDoesNotRead()
    {
        var unknown = DocumentedKey().Matches(Doc).Select(m => m.Groups[1].Value)
            .Where(k => !ConfigurationKeys.IsKnown(k) && !ConfigurationKeys.All.Keys.Any(known => known.StartsWith(k + ":", StringComparison.OrdinalIgnoreCase)))
            .Distinct()
            .ToList();

        Assert.True(unknown.Count == 0, "docs/configuration.md names keys nothing reads: " + string.Join(", ", unknown));
    }

    [Theory]
    [InlineData("src/Silo/appsettings.json")]
    [InlineData("src/Gateway.Host/appsettings.json")]
    public void ShippedAppSettings_SetOnlyKeysTheCodeReads(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Repository.PathOf(path)));
        var keys = new List<string>();
        Flatten(document.RootElement, "", keys);
        var unknown = keys.Where(k => !k.StartsWith("Logging:", StringComparison.Ordinal) && !ConfigurationKeys.IsKnown(k)).ToList();

        Assert.True(unknown.Count == 0, $"{path} sets keys nothing reads: " + string.Join(", ", unknown));
    }

    private static void Flatten(JsonElement element, string prefix, List<string> keys)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            keys.Add(prefix);
            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            Flatten(property.Value, prefix.Length == 0 ? property.Name : prefix + ":" + property.Name, keys);
        }
    }

    [GeneratedRegex(@"`(Xmbl:[A-Za-z0-9:]*[A-Za-z0-9])")]
    private static partial Regex DocumentedKey();
}
