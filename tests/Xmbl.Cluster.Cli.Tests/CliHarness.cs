using System.Text;

namespace Xmbl.Cluster.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs xmbl in-process with in-memory standard streams.</summary>
internal static class CliHarness
{
    private static readonly Lazy<string> FixtureDirectory = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "wasm");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures/wasm not found above " + AppContext.BaseDirectory);
    });

    public static string Fixture(string name) => Path.Combine(FixtureDirectory.Value, name + ".wasm");

    public static async Task<CliResult> RunWithInputAsync(string stdin, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(Encoding.UTF8.GetBytes(stdin)), stdout, stderr);
        var code = await CliApplication.RunAsync(args, console);
        return new CliResult(code, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(string.Empty, args);
}
