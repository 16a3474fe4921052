using System.Net;
using System.Net.Sockets;

namespace Xmbl.Cluster.Cli.Tests;

[Trait("Suite", "BVT")]
public sealed class NodeLeaveCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xmbl-node-leave-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Leave_WithoutANode_IsAUsageError()
    {
        var result = await CliHarness.RunAsync("node", "leave", "--wallet", Path.Combine(_dir, "operator.key"));

        Assert.Equal(CliExitCodes.Usage, result.ExitCode);
        Assert.Contains("NODE", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leave_WhenTheGatewayDoesNotAnswer_FailsWithOneLine()
    {
        // A port that was free a moment ago: nothing listens there.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await CliHarness.RunAsync("--gateway", $"http://127.0.0.1:{port}", "--wallet", Path.Combine(_dir, "operator.key"), "node", "leave", "did:key:z6MkNode");

        Assert.Equal(CliExitCodes.Failure, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr.Split('\n').Last(l => l.Length > 0), StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }
}
