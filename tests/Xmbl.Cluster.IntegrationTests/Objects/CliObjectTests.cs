using System.Net;
using System.Security.Cryptography;
using System.Text;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Objects;

[Trait("Suite", "Functional")]
public sealed class CliObjectTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>, IDisposable
{
    private readonly TempDirectory _files = new("xmbl-cli");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task PutLsGetRm_RoundTripAFileThroughTheGateway()
    {
        var source = _files.File("data.bin");
        var bytes = new byte[2_500_000];
        new Random(9).NextBytes(bytes);
        await File.WriteAllBytesAsync(source, bytes);
        var target = _files.File("back.bin");

        var put = await RunAsync("put", source, "cli/data.bin");
        var ls = await RunAsync("ls", "cli/data");
        var get = await RunAsync("get", "cli/data.bin", target);
        var rm = await RunAsync("rm", "cli/data.bin");
        var getMissing = await RunAsync("get", "cli/data.bin");

        Assert.Equal(0, put.Exit);
        Assert.Contains("2500000 bytes", put.Out, StringComparison.Ordinal);
        Assert.Equal(0, ls.Exit);
        Assert.Contains("cli/data.bin", ls.Out, StringComparison.Ordinal);
        Assert.Equal(0, get.Exit);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(target));
        Assert.Equal(0, rm.Exit);
        Assert.Equal(1, getMissing.Exit);
        Assert.Contains("404", getMissing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_OnAFreshMachine_CreatesTheWallet_SaysSo_AndStoresTheObjectAsItsAccount()
    {
        var source = _files.File("fresh.txt");
        await File.WriteAllTextAsync(source, "fresh\n");
        Assert.False(File.Exists(Path.Combine(_files.Path, "wallet.key")));

        var put = await RunAsync("put", source, "cli/fresh.txt");
        var show = await RunAsync("wallet", "show");
        var record = await fixture.Silo.GetJsonAsync("/api/objects/cli?prefix=fresh.txt");

        Assert.Equal(0, put.Exit);
        Assert.Contains("created", put.Err, StringComparison.Ordinal);
        Assert.Contains(show.Out.Trim(), put.Err, StringComparison.Ordinal);
        Assert.Equal(show.Out.Trim(), record.GetProperty("items")[0].GetProperty("owner").GetString());
    }

    [Fact]
    public async Task Rm_ByAnotherWallet_IsRefused_AndTheObjectStays()
    {
        var source = _files.File("kept.txt");
        await File.WriteAllTextAsync(source, "kept\n");
        Assert.Equal(0, (await RunAsync("put", source, "cli/kept.txt")).Exit);

        var rm = await RunWithWalletAsync(fixture.Silo.BaseAddress.ToString(), _files.File("other.key"), "rm", "cli/kept.txt");

        Assert.Equal(1, rm.Exit);
        Assert.Contains("403", rm.Err, StringComparison.Ordinal);
        Assert.Equal("kept\n", (await RunAsync("get", "cli/kept.txt")).Out);
    }

    [Fact]
    public async Task Get_ToStdout_WritesTheBytes()
    {
        var source = _files.File("hello.txt");
        await File.WriteAllTextAsync(source, "hello, cluster\n");
        Assert.Equal(0, (await RunAsync("put", source, "cli/hello.txt")).Exit);

        var get = await RunAsync("get", "cli/hello.txt");

        Assert.Equal("hello, cluster\n", get.Out);
    }

    [Fact]
    public async Task Put_NameWithDotSegment_IsRefusedByTheGateway_NotStoredUnderAnotherName()
    {
        var source = _files.File("dots.txt");
        await File.WriteAllTextAsync(source, "dots\n");

        var put = await RunAsync("put", source, "cli/a/../b.txt");
        var getOther = await RunAsync("get", "cli/b.txt");

        Assert.Equal(1, put.Exit);
        Assert.Contains("400", put.Err, StringComparison.Ordinal);
        Assert.Contains("'..'", put.Err, StringComparison.Ordinal);
        Assert.Equal(1, getOther.Exit);
    }

    [Theory]
    [InlineData("put", "missing-file", "cli/x")]
    [InlineData("put", "PLACEHOLDER", "no-name")]
    [InlineData("get", "no-name")]
    public async Task BadArguments_ExitWithUsageCodeAndMessage(params string[] args)
    {
        var file = _files.File("exists.txt");
        await File.WriteAllTextAsync(file, "x");
        args = [.. args.Select(a => a == "PLACEHOLDER" ? file : a)];

        var result = await RunAsync(args);

        Assert.Equal(CliExitCodes.Usage, result.Exit);
        Assert.StartsWith("error: ", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableGateway_ExitsNonZeroWithAClearMessage()
    {
        var result = await RunWithGatewayAsync($"http://127.0.0.1:{TcpPorts.Free()}", "ls", "cli");

        Assert.Equal(CliExitCodes.Failure, result.Exit);
        Assert.Contains("cannot reach the gateway", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_BytesNotMatchingTheAnnouncedSha256_FailsAndWritesNoFile()
    {
        // A gateway (or anything on the way) that hands out other bytes than the object's.
        var port = TcpPorts.Free();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serve = Task.Run(async () =>
        {
            for (var i = 0; i < 2; i++)
            {
                var context = await listener.GetContextAsync();
                context.Response.AddHeader("X-Xmbl-Sha256", Convert.ToHexStringLower(SHA256.HashData("the real object"u8)));
                await context.Response.OutputStream.WriteAsync("something else"u8.ToArray());
                context.Response.Close();
            }
        });
        var target = _files.File("tampered.bin");

        var toFile = await RunWithGatewayAsync($"http://127.0.0.1:{port}", "get", "cli/object", target);
        var toStdout = await RunWithGatewayAsync($"http://127.0.0.1:{port}", "get", "cli/object");
        await serve;

        Assert.Equal(CliExitCodes.Failure, toFile.Exit);
        Assert.Contains("SHA-256", toFile.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(target)!, "*.xmbl-partial"));
        Assert.Equal(CliExitCodes.Failure, toStdout.Exit);
        Assert.Contains("not the object", toStdout.Err, StringComparison.Ordinal);
    }

    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        RunWithGatewayAsync(fixture.Silo.BaseAddress.ToString(), args);

    private Task<(int Exit, string Out, string Err)> RunWithGatewayAsync(string gateway, params string[] args) =>
        RunWithWalletAsync(gateway, Path.Combine(_files.Path, "wallet.key"), args);

    private static async Task<(int Exit, string Out, string Err)> RunWithWalletAsync(string gateway, string wallet, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var exit = await CliApplication.RunAsync(["--gateway", gateway, "--wallet", wallet, .. args], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
