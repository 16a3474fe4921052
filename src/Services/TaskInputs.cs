using System.Text;
using System.Text.Json;

namespace Xmbl.Cluster.Services;

/// <summary>
/// A task's inputs checked against the manifest, before anything runs. Each value is what the module reads at
/// <c>/input/NAME</c>: a string's UTF-8 text, a file's bytes, any other value's JSON text. <see cref="Stdin"/> is the
/// JSON object of the non-file inputs.
/// </summary>
public sealed class TaskInputs
{
    private TaskInputs(IReadOnlyDictionary<string, byte[]> files, byte[] stdin)
    {
        Files = files;
        Stdin = stdin;
    }

    /// <summary>Every given input as the module sees it under <c>/input</c>.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>The JSON object of the non-file inputs, given on stdin.</summary>
    public byte[] Stdin { get; }

    /// <summary>Total bytes of the inputs.</summary>
    public long TotalBytes => Files.Values.Sum(v => (long)v.Length) + Stdin.Length;

    /// <summary>
    /// Checks <paramref name="inputs"/> (a JSON object, input name → value; a file is <c>{"name": "a.png",
    /// "base64": "…"}</c>) against the manifest. Every problem comes back, each with its path (<c>$.inputs.NAME</c>).
    /// </summary>
    /// <param name="manifest">The service's manifest.</param>
    /// <param name="inputs">The task's inputs.</param>
    /// <param name="maxTotalBytes">The most bytes all inputs may take.</param>
    /// <param name="result">The inputs, when valid.</param>
    /// <param name="errors">Every problem, when not.</param>
    /// <returns>Whether they are valid.</returns>
    public static bool TryCreate(ServiceManifest manifest, JsonElement inputs, long maxTotalBytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TaskInputs? result, out IReadOnlyList<ManifestError> errors)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        result = null;
        var problems = new List<ManifestError>();
        errors = problems;
        if (inputs.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new ManifestError("$.inputs", "must be an object of input name to value"));
            return false;
        }

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var stdin = new MemoryStream();
        long total = 0;
        using (var writer = new Utf8JsonWriter(stdin))
        {
            writer.WriteStartObject();
            foreach (var property in inputs.EnumerateObject())
            {
                var path = "$.inputs." + property.Name;
                var declared = manifest.Inputs.FirstOrDefault(i => i.Name == property.Name);
                if (declared is null)
                {
                    problems.Add(new ManifestError(path, manifest.Inputs.Count == 0
                        ? "is not an input of this service (it takes none)"
                        : $"is not an input of this service (inputs: {string.Join(", ", manifest.Inputs.Select(i => i.Name))})"));
                    continue;
                }

                if (files.ContainsKey(property.Name))
                {
                    problems.Add(new ManifestError(path, "appears twice"));
                    continue;
                }

                if (Check(declared, property.Value, path, problems) is not { } bytes)
                {
                    continue;
                }

                total += bytes.Length;
                files[declared.Name] = bytes;
                if (declared.Type != ServiceValueType.File)
                {
                    writer.WritePropertyName(declared.Name);
                    property.Value.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        foreach (var input in manifest.Inputs)
        {
            if (input.Required && !inputs.TryGetProperty(input.Name, out _))
            {
                problems.Add(new ManifestError("$.inputs." + input.Name, $"is required ({ServiceValueTypeNames.Of(input.Type)})"));
            }
        }

        total += stdin.Length;
        if (total > maxTotalBytes)
        {
            problems.Add(new ManifestError("$.inputs", $"take {total} bytes; at most {maxTotalBytes} are accepted"));
        }

        if (problems.Count > 0)
        {
            return false;
        }

        result = new TaskInputs(files, stdin.ToArray());
        return true;
    }

    private static byte[]? Check(ServiceInput input, JsonElement value, string path, List<ManifestError> problems)
    {
        switch (input.Type)
        {
            case ServiceValueType.String when value.ValueKind == JsonValueKind.String:
                var text = value.GetString()!;
                if (input.MaxLength is { } max && text.Length > max)
                {
                    problems.Add(new ManifestError(path, $"is {text.Length} characters; at most {max} are accepted"));
                    return null;
                }

                return Encoding.UTF8.GetBytes(text);
            case ServiceValueType.Number or ServiceValueType.Integer when value.ValueKind == JsonValueKind.Number:
                if (input.Type == ServiceValueType.Integer && !value.TryGetInt64(out _))
                {
                    problems.Add(new ManifestError(path, "must be a whole number"));
                    return null;
                }

                var number = value.GetDouble();
                if (number < input.Minimum || number > input.Maximum)
                {
                    problems.Add(new ManifestError(path, $"must be between {input.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-∞"} and {input.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "∞"}"));
                    return null;
                }

                return Encoding.UTF8.GetBytes(value.GetRawText());
            case ServiceValueType.Boolean when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                return Encoding.UTF8.GetBytes(value.GetRawText());
            case ServiceValueType.Json:
                var raw = Encoding.UTF8.GetBytes(value.GetRawText());
                if (input.MaxLength is { } maxJson && raw.Length > maxJson)
                {
                    problems.Add(new ManifestError(path, $"is {raw.Length} bytes of JSON; at most {maxJson} are accepted"));
                    return null;
                }

                return raw;
            case ServiceValueType.File when value.ValueKind == JsonValueKind.Object:
                return CheckFile(input, value, path, problems);
            default:
                problems.Add(new ManifestError(path, input.Type == ServiceValueType.File
                    ? "must be a file: {\"name\": \"a.png\", \"base64\": \"…\"}"
                    : $"must be a {ServiceValueTypeNames.Of(input.Type)}"));
                return null;
        }
    }

    private static byte[]? CheckFile(ServiceInput input, JsonElement value, string path, List<ManifestError> problems)
    {
        if (!value.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("base64", out var content) || content.ValueKind != JsonValueKind.String)
        {
            problems.Add(new ManifestError(path, "must be a file: {\"name\": \"a.png\", \"base64\": \"…\"}"));
            return null;
        }

        var name = nameElement.GetString()!;
        var dot = name.LastIndexOf('.');
        var extension = dot < 0 ? string.Empty : name[(dot + 1)..].ToLowerInvariant();
        if (input.FileTypes.Count > 0 && !input.FileTypes.Contains(extension))
        {
            problems.Add(new ManifestError(path + ".name", $"'{name}' is not of an accepted type ({string.Join(", ", input.FileTypes)})"));
            return null;
        }

        if (!content.TryGetBytesFromBase64(out var bytes))
        {
            problems.Add(new ManifestError(path + ".base64", "is not base64"));
            return null;
        }

        if (input.MaxLength is { } max && bytes.Length > max)
        {
            problems.Add(new ManifestError(path, $"is {bytes.Length} bytes; at most {max} are accepted"));
            return null;
        }

        return bytes;
    }
}
