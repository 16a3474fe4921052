using System.Text.Json;

namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>
/// Locates the WebAssembly spec test suite converted by wast2json (<c>shared/wasm-spec/json</c>, beside the repository)
/// and lists its files. <c>XMBL_WASM_SPEC_DIR</c> overrides the location.
/// </summary>
internal static class SpecSuite
{
    public const string EnvironmentVariable = "XMBL_WASM_SPEC_DIR";

    private static readonly Lazy<string?> Located = new(Locate);

    /// <summary>The json directory, or null when it cannot be found.</summary>
    public static string? JsonDirectory => Located.Value;

    /// <summary>The json directory, or an exception explaining where it was looked for.</summary>
    public static string RequireJsonDirectory() =>
        JsonDirectory ?? throw new DirectoryNotFoundException(
            "WebAssembly spec suite not found: expected shared/wasm-spec/json in the repository's parent directory " +
            $"(searched upwards from {AppContext.BaseDirectory}), or a directory named by {EnvironmentVariable}. " +
            "CI clones the repository with shared/ beside it.");

    /// <summary>Whether a file of the suite is a fixed-width SIMD test (not supported by the engine).</summary>
    public static bool IsSimd(string name) => name.StartsWith("simd_", StringComparison.Ordinal);

    /// <summary>All suite file names (folder names), sorted; a single placeholder when the suite is missing so the
    /// data-driven tests fail with the locator's message instead of silently running nothing.</summary>
    public static IReadOnlyList<string> AllFiles()
    {
        var dir = JsonDirectory;
        if (dir is null)
        {
            return ["(spec suite missing)"];
        }

        return [.. Directory.GetDirectories(dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
    }

    /// <summary>Non-SIMD files.</summary>
    public static IReadOnlyList<string> SupportedFiles() => [.. AllFiles().Where(f => !IsSimd(f))];

    /// <summary>SIMD files, skipped.</summary>
    public static IReadOnlyList<string> SimdFiles() => [.. AllFiles().Where(IsSimd)];

    /// <summary>Loads the command list of one file.</summary>
    public static SpecFile Load(string name)
    {
        var dir = Path.Combine(RequireJsonDirectory(), name);
        var path = Path.Combine(dir, name + ".json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var commands = doc.RootElement.GetProperty("commands").EnumerateArray().Select(SpecCommand.Parse).ToList();
        return new SpecFile(name, dir, commands);
    }

    private static string? Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Directory.Exists(fromEnvironment) ? fromEnvironment : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "wasm-spec", "json");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>One wast2json file: its name, folder and commands.</summary>
internal sealed record SpecFile(string Name, string Directory, IReadOnlyList<SpecCommand> Commands)
{
    public byte[] ReadModule(string fileName) => File.ReadAllBytes(Path.Combine(Directory, fileName));
}

/// <summary>A value in a command (argument or expected result), as wast2json writes it.</summary>
internal sealed record SpecValue(string Type, string? Value)
{
    public static SpecValue Parse(JsonElement e) =>
        new(e.GetProperty("type").GetString()!, e.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null);

    public override string ToString() => $"{Type}:{Value}";
}

/// <summary>An <c>invoke</c> or <c>get</c> action.</summary>
internal sealed record SpecAction(string Type, string? Module, string Field, IReadOnlyList<SpecValue> Args)
{
    public static SpecAction Parse(JsonElement e) => new(
        e.GetProperty("type").GetString()!,
        e.TryGetProperty("module", out var m) ? m.GetString() : null,
        e.GetProperty("field").GetString()!,
        e.TryGetProperty("args", out var a) ? [.. a.EnumerateArray().Select(SpecValue.Parse)] : []);

    public override string ToString() => $"{Type} {(Module is null ? string.Empty : Module + ".")}{Field}({string.Join(", ", Args)})";
}

/// <summary>One command of a wast2json file.</summary>
internal sealed record SpecCommand(
    string Type,
    int Line,
    string? FileName,
    string? Name,
    string? As,
    string? Text,
    string? ModuleType,
    SpecAction? Action,
    IReadOnlyList<SpecValue> Expected)
{
    public static SpecCommand Parse(JsonElement e) => new(
        e.GetProperty("type").GetString()!,
        e.GetProperty("line").GetInt32(),
        Str(e, "filename"),
        Str(e, "name"),
        Str(e, "as"),
        Str(e, "text"),
        Str(e, "module_type"),
        e.TryGetProperty("action", out var a) ? SpecAction.Parse(a) : null,
        e.TryGetProperty("expected", out var x) ? [.. x.EnumerateArray().Select(SpecValue.Parse)] : []);

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
}
