using Xmbl.Cluster.Cli.Commands;

namespace Xmbl.Cluster.Cli.Tests;

[Trait("Suite", "BVT")]
public sealed class WalletCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xmbl-wallet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task New_CreatesAnOwnerOnlyWallet_AndShowPrintsTheSameDid()
    {
        var path = Path.Combine(_dir, "sub", "wallet.key");

        var created = await CliHarness.RunAsync("wallet", "new", "--wallet", path);
        var shown = await CliHarness.RunAsync("wallet", "show", "--wallet", path);

        Assert.Equal(CliExitCodes.Success, created.ExitCode);
        Assert.StartsWith("did:key:z6Mk", created.Stdout, StringComparison.Ordinal);
        Assert.Equal(created.Stdout, shown.Stdout);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task New_WhenAWalletExists_FailsAndLeavesItAlone()
    {
        var path = Path.Combine(_dir, "wallet.key");
        var first = await CliHarness.RunAsync("wallet", "new", "--wallet", path);
        var before = await File.ReadAllBytesAsync(path);

        var second = await CliHarness.RunAsync("wallet", "new", "--wallet", path);

        Assert.Equal(CliExitCodes.Failure, second.ExitCode);
        Assert.Contains("already exists", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(path));
        Assert.Equal(first.Stdout, (await CliHarness.RunAsync("wallet", "show", "--wallet", path)).Stdout);
    }

    [Fact]
    public async Task Show_WithoutAWallet_FailsWithoutCreatingOne()
    {
        var path = Path.Combine(_dir, "none.key");

        var shown = await CliHarness.RunAsync("wallet", "show", "--wallet", path);

        Assert.Equal(CliExitCodes.Failure, shown.ExitCode);
        Assert.Contains("xmbl wallet new", shown.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Show_AFileThatIsNotAWallet_FailsWithAMessage()
    {
        var path = Path.Combine(_dir, "garbage.key");
        await File.WriteAllTextAsync(path, "not a key");

        var shown = await CliHarness.RunAsync("wallet", "show", "--wallet", path);

        Assert.Equal(CliExitCodes.Failure, shown.ExitCode);
        Assert.Contains("not base64", shown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultPath_IsUnderTheUsersConfigDirectory()
    {
        var path = Wallets.DefaultPath();

        Assert.EndsWith(Path.Combine("xmbl", "wallet.key"), path, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows() && Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is not { Length: > 0 } xdg)
        {
            Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "xmbl", "wallet.key"), path);
        }
    }

    [Theory]
    [InlineData("faucet", "1.0000001")]
    [InlineData("faucet", "0")]
    [InlineData("faucet", "1e3")]
    [InlineData("faucet", "abc")]
    [InlineData("transfer", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "2,5")]
    public async Task A_bad_amount_is_a_usage_error_and_sends_nothing(params string[] args)
    {
        var path = Path.Combine(_dir, "wallet.key");

        // No gateway listens on port 9: a request sent would fail differently (exit 1).
        var run = await CliHarness.RunAsync(["wallet", .. args, "--wallet", path, "--gateway", "http://127.0.0.1:9"]);

        Assert.Equal(CliExitCodes.Usage, run.ExitCode);
        Assert.Contains("AMOUNT", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("6 decimals", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transfer_to_something_other_than_a_did_key_is_a_usage_error()
    {
        var run = await CliHarness.RunAsync("wallet", "transfer", "bob", "1", "--wallet", Path.Combine(_dir, "wallet.key"), "--gateway", "http://127.0.0.1:9");

        Assert.Equal(CliExitCodes.Usage, run.ExitCode);
        Assert.Contains("DID", run.Stderr, StringComparison.Ordinal);
    }
}
