using Xmbl.Cluster.Cli.Commands;

namespace Xmbl.Cluster.Cli.Tests;

[Trait("Suite", "BVT")]
public sealed class GlobalOptionsTests
{
    private static readonly CliConsole Console = new(Stream.Null, Stream.Null, Stream.Null);

    [Fact]
    public void Gateway_Given_IsParsedOnAnySubcommand()
    {
        var parse = CliApplication.BuildRootCommand(Console).Parse(["run", "--gateway", "https://gw.example:8443", "x.wasm"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(new Uri("https://gw.example:8443"), GlobalOptions.GetGateway(parse));
    }

    [Fact]
    public void Gateway_NotAnHttpUrl_IsAnError()
    {
        var parse = CliApplication.BuildRootCommand(Console).Parse(["--gateway", "ftp://x", "run", "x.wasm"]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("ftp://x", StringComparison.Ordinal));
    }

    [Fact]
    public void Gateway_Omitted_DefaultsToLocalhostOrEnvironment()
    {
        var parse = CliApplication.BuildRootCommand(Console).Parse(["run", "x.wasm"]);
        var expected = Environment.GetEnvironmentVariable(GlobalOptions.GatewayEnvironmentVariable) is { Length: > 0 } env
            ? new Uri(env)
            : new Uri(GlobalOptions.DefaultGateway);

        Assert.Equal(expected, GlobalOptions.GetGateway(parse));
    }
}
