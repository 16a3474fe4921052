using System.Text.Json;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>A Dockerfile's instructions (continuation lines joined, comments dropped), and its final stage's settings.</summary>
internal sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<(string Instruction, string Arguments)> instructions)
    {
        Instructions = instructions;
        var lastFrom = instructions.Select((x, i) => (x, i)).Last(p => p.x.Instruction == "FROM").i;
        Final = instructions.Skip(lastFrom).ToList();
    }

    public IReadOnlyList<(string Instruction, string Arguments)> Instructions { get; }

    /// <summary>The instructions of the last stage (the image that runs), from its FROM.</summary>
    public IReadOnlyList<(string Instruction, string Arguments)> Final { get; }

    public IEnumerable<string> Stages => Instructions.Where(i => i.Instruction == "FROM").Select(i => i.Arguments);

    /// <summary>The final stage's ENV, in order (later wins).</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (_, arguments) in Final.Where(i => i.Instruction == "ENV"))
            {
                foreach (var pair in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    env[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }
            }

            return env;
        }
    }

    public string? User => Final.LastOrDefault(i => i.Instruction == "USER").Arguments;

    public IReadOnlyList<string> Volumes => [.. Final.Where(i => i.Instruction == "VOLUME").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))];

    public IReadOnlyList<int> Exposed => [.. Final.Where(i => i.Instruction == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse)];

    /// <summary>The exec form of the ENTRYPOINT.</summary>
    public IReadOnlyList<string> Entrypoint => Json(Final.Last(i => i.Instruction == "ENTRYPOINT").Arguments);

    /// <summary>The HEALTHCHECK's command (exec form), or empty when there is none.</summary>
    public IReadOnlyList<string> HealthCheck
    {
        get
        {
            var check = Final.LastOrDefault(i => i.Instruction == "HEALTHCHECK").Arguments;
            if (check is null)
            {
                return [];
            }

            var cmd = check.IndexOf("CMD ", StringComparison.Ordinal);
            return ["CMD", .. Json(check[(cmd + 4)..].Trim())];
        }
    }

    public static Dockerfile Load(string path)
    {
        var instructions = new List<(string, string)>();
        var current = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            current += line;
            var space = current.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add((current[..space].ToUpperInvariant(), current[(space + 1)..].Trim()));
            current = "";
        }

        return new Dockerfile(instructions);
    }

    private static string[] Json(string array) => JsonSerializer.Deserialize<string[]>(array)!;
}
