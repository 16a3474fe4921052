using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Xmbl.Cluster.Persistence.Sql.Migrations;

/// <summary>The schema scripts embedded in this assembly, per dialect, in version order.</summary>
public static partial class SchemaScripts
{
    private const string ResourcePrefix = "Xmbl.Cluster.Persistence.Sql.";

    private static readonly ConcurrentDictionary<SqlDialect, IReadOnlyList<SchemaScript>> Cache = new();

    /// <summary>The scripts of <paramref name="dialect"/>, ordered by version (1, 2, 3… without gaps).</summary>
    /// <exception cref="InvalidOperationException">A resource is misnamed, or versions repeat or have gaps (a build defect).</exception>
    public static IReadOnlyList<SchemaScript> For(SqlDialect dialect) => Cache.GetOrAdd(dialect, Load);

    /// <summary>The latest version of <paramref name="dialect"/>'s schema.</summary>
    public static int LatestVersion(SqlDialect dialect) => For(dialect)[^1].Version;

    private static string Folder(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => "postgresql",
        SqlDialect.Sqlite => "sqlite",
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private static IReadOnlyList<SchemaScript> Load(SqlDialect dialect)
    {
        var assembly = typeof(SchemaScripts).Assembly;
        var prefix = ResourcePrefix + Folder(dialect) + ".";
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var fileName = resource[prefix.Length..];
            var match = FileNamePattern().Match(fileName);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Schema script '{fileName}' ({dialect}) is not named NNNN-lower-case-name.sql.");
            }

            var text = Normalize(Read(assembly, resource));
            scripts.Add(new SchemaScript(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, text, Hash(text)));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No schema scripts for {dialect} are embedded in {assembly.GetName().Name}.");
        }

        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Schema scripts for {dialect} must be numbered 1, 2, 3… without gaps or repeats; found {scripts[i].FileName} at position {i + 1}.");
            }
        }

        return scripts;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded schema resource {resource} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    // A checkout with CRLF line endings must hash like one with LF.
    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex("^([0-9]{4})-([a-z0-9]+(?:-[a-z0-9]+)*)\\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileNamePattern();
}
