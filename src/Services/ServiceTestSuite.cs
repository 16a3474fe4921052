using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Services;

/// <summary>One case of a service's test file.</summary>
/// <param name="Name">The case's name.</param>
/// <param name="Inputs">The inputs (a JSON object, as a task gives them).</param>
/// <param name="Expect">What must happen.</param>
public sealed record ServiceTestCase(string Name, JsonElement Inputs, ServiceTestExpectation Expect);

/// <summary>What a case expects: a run that succeeds with these outputs, or inputs refused at these paths.</summary>
/// <param name="Refused">JSON paths the input check must refuse (then nothing runs); null expects a run.</param>
/// <param name="Outputs">Per output: <c>equals</c> (text), <c>contains</c> (text), <c>sha256</c> (hex) or <c>json</c> (any value).</param>
/// <param name="Fails">When set, the run must fail with a problem containing this text.</param>
public sealed record ServiceTestExpectation(IReadOnlyList<string>? Refused, IReadOnlyDictionary<string, JsonObject> Outputs, string? Fails);

/// <summary>The verdict on one case.</summary>
/// <param name="Name">The case's name.</param>
/// <param name="Passed">Whether it passed.</param>
/// <param name="Diagnostics">Why it failed (each a sentence), or notes when it passed.</param>
/// <param name="Run">The run, when the inputs were accepted.</param>
public sealed record ServiceTestVerdict(string Name, bool Passed, IReadOnlyList<string> Diagnostics, ServiceRunResult? Run);

/// <summary>
/// A service's local test file (<c>tests.json</c>): <c>{"cases": [{"name", "inputs", "expect"}]}</c>. A file input
/// may be given as <c>{"path": "samples/a.png"}</c>, relative to the test file. See docs/services.md, "Testing".
/// </summary>
public static class ServiceTestSuite
{
    private const long MaxInputBytes = 64L * 1024 * 1024;

    /// <summary>Reads a test file.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="baseDirectory">Where relative file paths start.</param>
    /// <returns>The cases.</returns>
    /// <exception cref="FormatException">The file does not follow the format; the message says where.</exception>
    public static IReadOnlyList<ServiceTestCase> Parse(ReadOnlySpan<byte> json, string baseDirectory)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json.ToArray(), documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new FormatException("not valid JSON: " + e.Message, e);
        }

        if (root?["cases"] is not JsonArray cases || cases.Count == 0)
        {
            throw new FormatException("$.cases: must be a non-empty array of {name, inputs, expect}");
        }

        var result = new List<ServiceTestCase>();
        for (var i = 0; i < cases.Count; i++)
        {
            var path = $"$.cases[{i}]";
            if (cases[i] is not JsonObject item || item["name"]?.GetValueKind() != JsonValueKind.String || item["inputs"] is not JsonObject inputs)
            {
                throw new FormatException($"{path}: must be an object with a string name and an inputs object");
            }

            foreach (var (name, value) in inputs.ToList())
            {
                if (value is JsonObject file && file["path"] is JsonValue relative && relative.TryGetValue<string>(out var filePath))
                {
                    var full = Path.GetFullPath(Path.Combine(baseDirectory, filePath));
                    if (!File.Exists(full))
                    {
                        throw new FormatException($"{path}.inputs.{name}.path: no file {full}");
                    }

                    inputs[name] = new JsonObject { ["name"] = Path.GetFileName(full), ["base64"] = Convert.ToBase64String(File.ReadAllBytes(full)) };
                }
            }

            var expect = item["expect"] as JsonObject ?? [];
            List<string>? refused = null;
            if (expect["refused"] is JsonArray paths)
            {
                refused = [.. paths.Select(p => p?.GetValue<string>() ?? string.Empty)];
            }

            var outputs = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            if (expect["outputs"] is JsonObject expected)
            {
                foreach (var (name, check) in expected)
                {
                    outputs[name] = check as JsonObject ?? throw new FormatException($"{path}.expect.outputs.{name}: must be an object (equals, contains, sha256 or json)");
                }
            }

            var fails = expect["fails"]?.GetValue<string>();
            using var document = JsonDocument.Parse(inputs.ToJsonString());
            result.Add(new ServiceTestCase(item["name"]!.GetValue<string>(), document.RootElement.Clone(), new ServiceTestExpectation(refused, outputs, fails)));
        }

        return result;
    }

    /// <summary>Runs one case and judges it.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="manifest">The manifest.</param>
    /// <param name="module">The entry module.</param>
    /// <param name="test">The case.</param>
    /// <param name="options">Run limits.</param>
    /// <param name="tier">The trust tier to run as.</param>
    /// <param name="providers">The capabilities this host offers.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The verdict.</returns>
    public static ServiceTestVerdict Run(
        IWasmEngine engine, ServiceManifest manifest, ReadOnlyMemory<byte> module, ServiceTestCase test, ServiceRunOptions options, TrustTier tier, ServiceCapabilityProviders providers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(test);
        var diagnostics = new List<string>();
        if (!TaskInputs.TryCreate(manifest, test.Inputs, MaxInputBytes, out var inputs, out var errors))
        {
            if (test.Expect.Refused is { } expected)
            {
                foreach (var path in expected.Where(p => !errors.Any(e => e.Path == p)))
                {
                    diagnostics.Add($"expected the input check to refuse {path}; it refused: {string.Join("; ", errors)}");
                }

                return new ServiceTestVerdict(test.Name, diagnostics.Count == 0, diagnostics.Count == 0 ? [.. errors.Select(e => "refused " + e)] : diagnostics, null);
            }

            return new ServiceTestVerdict(test.Name, false, [.. errors.Select(e => "inputs refused: " + e)], null);
        }

        if (test.Expect.Refused is not null)
        {
            diagnostics.Add($"expected the input check to refuse {string.Join(", ", test.Expect.Refused)}, but the inputs were accepted");
            return new ServiceTestVerdict(test.Name, false, diagnostics, null);
        }

        var run = ServiceRunner.Run(engine, manifest, module, inputs, options, tier, providers, cancellationToken);
        if (test.Expect.Fails is { } fails)
        {
            if (run.Succeeded)
            {
                diagnostics.Add($"expected the run to fail with '{fails}', but it succeeded");
            }
            else if (!run.Problems.Any(p => p.Contains(fails, StringComparison.Ordinal)))
            {
                diagnostics.Add($"expected a failure with '{fails}'; got: {string.Join("; ", run.Problems)}");
            }

            return new ServiceTestVerdict(test.Name, diagnostics.Count == 0, diagnostics, run);
        }

        diagnostics.AddRange(run.Problems);
        foreach (var (name, check) in test.Expect.Outputs)
        {
            if (!run.Outputs.TryGetValue(name, out var bytes))
            {
                if (run.Succeeded)
                {
                    diagnostics.Add($"output {name}: not an output of this service");
                }

                continue;
            }

            if (Judge(name, bytes, check) is { } problem)
            {
                diagnostics.Add(problem);
            }
        }

        return new ServiceTestVerdict(test.Name, diagnostics.Count == 0, diagnostics, run);
    }

    private static string? Judge(string name, byte[] bytes, JsonObject check)
    {
        var text = Encoding.UTF8.GetString(bytes);
        foreach (var (kind, value) in check)
        {
            switch (kind)
            {
                case "equals" when value?.GetValue<string>() is { } expected && text != expected:
                    return $"output {name}: expected {Quote(expected)}, got {Quote(text)}";
                case "contains" when value?.GetValue<string>() is { } part && !text.Contains(part, StringComparison.Ordinal):
                    return $"output {name}: expected it to contain {Quote(part)}, got {Quote(text)}";
                case "sha256" when value?.GetValue<string>() is { } sha && !string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha, StringComparison.OrdinalIgnoreCase):
                    return $"output {name}: expected SHA-256 {sha}, got {Convert.ToHexStringLower(SHA256.HashData(bytes))} ({bytes.Length} bytes)";
                case "json":
                    JsonNode? actual;
                    try
                    {
                        actual = JsonNode.Parse(bytes);
                    }
                    catch (JsonException e)
                    {
                        return $"output {name}: expected JSON, got {Quote(text)} ({e.Message})";
                    }

                    if (!JsonNode.DeepEquals(actual, value))
                    {
                        return $"output {name}: expected JSON {value?.ToJsonString() ?? "null"}, got {actual?.ToJsonString() ?? "null"}";
                    }

                    break;
                case "equals" or "contains" or "sha256":
                    break;
                default:
                    return $"output {name}: '{kind}' is not a check (equals, contains, sha256, json)";
            }
        }

        return null;
    }

    private static string Quote(string text) =>
        "\"" + (text.Length > 200 ? text[..200] + string.Create(CultureInfo.InvariantCulture, $"… ({text.Length} characters)") : text) + "\"";
}
