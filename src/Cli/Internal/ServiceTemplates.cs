using System.Reflection;

namespace Xmbl.Cluster.Cli.Internal;

/// <summary>What <c>xmbl service new</c> writes: a working module (built from <c>tests/fixtures/wasm/src/service_upper.c</c>,
/// embedded), its C source and a test file that passes against it.</summary>
internal static class ServiceTemplates
{
    public const string Tests = """
        {
          "cases": [
            {
              "name": "upper-cases text",
              "inputs": { "text": "hello, mesh" },
              "expect": { "outputs": { "result": { "equals": "HELLO, MESH" } } }
            },
            {
              "name": "repeats it",
              "inputs": { "text": "ab", "repeat": 3 },
              "expect": { "outputs": { "result": { "equals": "ABABAB" } } }
            },
            {
              "name": "refuses a repeat out of range before running",
              "inputs": { "text": "ab", "repeat": 1000 },
              "expect": { "refused": ["$.inputs.repeat"] }
            }
          ]
        }

        """;

    public static byte[] Module() => Read("Xmbl.Cluster.Cli.Templates.service.wasm");

    public static string Source()
    {
        using var reader = new StreamReader(new MemoryStream(Read("Xmbl.Cluster.Cli.Templates.service.c")));
        return reader.ReadToEnd();
    }

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The resource {name} is missing from the xmbl build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
