using Xmbl.Cluster.Services;

namespace Xmbl.Cluster.Cli.Tests;

public sealed class ServiceCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xmbl-service-").FullName;
    private string Wallet => Path.Combine(_dir, "wallet.key");

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task New_ThenTest_PassesEveryScaffoldedCase()
    {
        Assert.Equal(0, (await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "text-upper", "--in", _dir)).ExitCode);

        var test = await CliHarness.RunAsync("--wallet", Wallet, "service", "test", Path.Combine(_dir, "text-upper"));

        Assert.Equal(0, test.ExitCode);
        Assert.Contains("PASS upper-cases text", test.Stdout, StringComparison.Ordinal);
        Assert.Contains("PASS refuses a repeat out of range before running", test.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("3 passed, 0 failed\n", test.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_WrongExpectation_FailsWithTheDifferenceAndTheModulesLog()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--in", _dir);
        var tests = Path.Combine(_dir, "svc", "tests.json");
        await File.WriteAllTextAsync(tests, (await File.ReadAllTextAsync(tests)).Replace("\"HELLO, MESH\"", "\"hello, mesh\"", StringComparison.Ordinal));

        var test = await CliHarness.RunAsync("service", "test", Path.Combine(_dir, "svc"));

        Assert.Equal(1, test.ExitCode);
        Assert.Contains("FAIL upper-cases text", test.Stdout, StringComparison.Ordinal);
        Assert.Contains("output result: expected \"hello, mesh\", got \"HELLO, MESH\"", test.Stdout, StringComparison.Ordinal);
        Assert.Contains("| wrote 11 bytes", test.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 passed, 1 failed", test.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_InputsTheManifestRefuses_FailWithThePathBeforeRunning()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--in", _dir);
        await File.WriteAllTextAsync(Path.Combine(_dir, "svc", "tests.json"), """{"cases":[{"name":"no text","inputs":{"repeat":2}}]}""");

        var test = await CliHarness.RunAsync("service", "test", Path.Combine(_dir, "svc"));

        Assert.Equal(1, test.ExitCode);
        Assert.Contains("FAIL no text (inputs checked, not run)", test.Stdout, StringComparison.Ordinal);
        Assert.Contains("inputs refused: $.inputs.text: is required (string)", test.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pack_WritesAPackageSignedByTheWalletThatVerifies()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--id", "org.example.svc", "--in", _dir);

        var pack = await CliHarness.RunAsync("--wallet", Wallet, "service", "pack", Path.Combine(_dir, "svc"), "-o", Path.Combine(_dir, "out.meshsvc"));

        Assert.Equal(0, pack.ExitCode);
        var package = PackageReader.Read(await File.ReadAllBytesAsync(Path.Combine(_dir, "out.meshsvc")));
        Assert.Equal("org.example.svc", package.Manifest.PackageId);
        Assert.Equal((await CliHarness.RunAsync("--wallet", Wallet, "wallet", "show")).Stdout.Trim(), package.Signature.Signer);
    }

    [Fact]
    public async Task Pack_WithAWalletThatIsNotTheAuthor_IsRefused()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--in", _dir);
        await CliHarness.RunAsync("--wallet", Path.Combine(_dir, "other.key"), "wallet", "new");

        var pack = await CliHarness.RunAsync("--wallet", Path.Combine(_dir, "other.key"), "service", "pack", Path.Combine(_dir, "svc"));

        Assert.Equal(1, pack.ExitCode);
        Assert.Contains("the manifest's author is", pack.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pack_InvalidManifest_ListsEveryErrorWithItsPath()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--in", _dir);
        var manifest = Path.Combine(_dir, "svc", "manifest.json");
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest))
            .Replace("\"0.1.0\"", "\"0.1\"", StringComparison.Ordinal)
            .Replace("\"budget\"", "\"tiny\"", StringComparison.Ordinal));

        var pack = await CliHarness.RunAsync("--wallet", Wallet, "service", "pack", Path.Combine(_dir, "svc"));

        Assert.Equal(1, pack.ExitCode);
        Assert.Contains("$.version: '0.1' is not a semantic version", pack.Stderr, StringComparison.Ordinal);
        Assert.Contains("$.deviceProfile: 'tiny' is not one of", pack.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pack_MissingListedFile_IsNamed()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--in", _dir);
        File.Delete(Path.Combine(_dir, "svc", "modules", "main.wasm"));

        var pack = await CliHarness.RunAsync("--wallet", Wallet, "service", "pack", Path.Combine(_dir, "svc"));

        Assert.Equal(1, pack.ExitCode);
        Assert.Contains("the manifest lists modules/main.wasm", pack.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_BadName_IsAUsageError()
    {
        var result = await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "Bad_Name", "--in", _dir);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not a service name", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_TamperedPackage_IsRefusedLocallyWithTheReason()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "svc", "--in", _dir);
        await CliHarness.RunAsync("--wallet", Wallet, "service", "pack", Path.Combine(_dir, "svc"), "-o", Path.Combine(_dir, "p.meshsvc"));
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_dir, "p.meshsvc"));
        bytes[bytes.Length / 3] ^= 0x40;
        await File.WriteAllBytesAsync(Path.Combine(_dir, "p.meshsvc"), bytes);

        var publish = await CliHarness.RunAsync("--wallet", Wallet, "--gateway", "http://127.0.0.1:9", "service", "publish", Path.Combine(_dir, "p.meshsvc"));

        Assert.Equal(1, publish.ExitCode);
        Assert.Contains("p.meshsvc is refused (", publish.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_ModuleImportingACapabilityItsTierLacks_IsRefusedBeforeRunningWithTheReason()
    {
        var dir = await HttpServiceAsync();

        var untrusted = await CliHarness.RunAsync("service", "test", dir);
        var trusted = await CliHarness.RunAsync("service", "test", dir, "--tier", "trusted");

        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("refused at task_start: the module imports xmbl.http_get (capability 'http'), which an untrusted publisher does not get", untrusted.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, trusted.ExitCode);
        Assert.Contains("PASS outside the allow-list", trusted.Stdout, StringComparison.Ordinal);
    }

    private async Task<string> HttpServiceAsync()
    {
        await CliHarness.RunAsync("--wallet", Wallet, "service", "new", "fetch", "--in", _dir);
        var dir = Path.Combine(_dir, "fetch");
        var manifestPath = Path.Combine(dir, "manifest.json");
        var manifest = ManifestParser.Parse(await File.ReadAllBytesAsync(manifestPath)) with
        {
            Inputs = [new ServiceInput { Name = "url", Type = ServiceValueType.String }],
            Capabilities = [ServiceCapabilities.Http],
            HttpAllowList = ["https://data.example.org/v1/"],
        };
        await File.WriteAllBytesAsync(manifestPath, ManifestWriter.ToIndentedJson(manifest));
        File.Copy(Path.Combine(Path.GetDirectoryName(CliHarness.Fixture("hello"))!, "service_http.wasm"), Path.Combine(dir, "modules", "main.wasm"), overwrite: true);
        await File.WriteAllTextAsync(Path.Combine(dir, "tests.json"), """
            {"cases":[{"name":"outside the allow-list","inputs":{"url":"https://elsewhere.example.org/x"},"expect":{"outputs":{"result":{"equals":"refused"}}}}]}
            """);
        return dir;
    }
}
