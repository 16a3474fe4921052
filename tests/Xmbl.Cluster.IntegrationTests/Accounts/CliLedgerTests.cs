using System.Text;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary><c>xmbl wallet faucet|transfer|balance|history</c> against a running silo.</summary>
[Trait("Suite", "Functional")]
public sealed class CliLedgerTests(LedgerSiloFixture fixture) : IClassFixture<LedgerSiloFixture>, IDisposable
{
    private readonly TempDirectory _files = new("xmbl-cli-ledger");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Faucet_transfer_balance_and_history_move_exact_amounts_between_two_wallets()
    {
        var bob = (await RunAsync("bob.key", "wallet", "new")).Out.Trim();

        var faucet = await RunAsync("alice.key", "wallet", "faucet", "12.5");
        var transfer = await RunAsync("alice.key", "wallet", "transfer", bob, "2.000001");
        var again = await RunAsync("alice.key", "wallet", "transfer", bob, "0.5");
        var aliceBalance = await RunAsync("alice.key", "wallet", "balance");
        var bobBalance = await RunAsync("bob.key", "wallet", "balance");
        var history = await RunAsync("bob.key", "wallet", "history");
        var tooMuch = await RunAsync("alice.key", "wallet", "transfer", bob, "100");

        Assert.Equal(0, faucet.Exit);
        Assert.Contains("created", faucet.Err, StringComparison.Ordinal);
        Assert.Contains("12.500000", faucet.Out, StringComparison.Ordinal);
        Assert.Equal(0, transfer.Exit);
        Assert.Contains("sent 2.000001 xmbl.c to " + bob, transfer.Out, StringComparison.Ordinal);
        Assert.Equal(0, again.Exit);
        Assert.Equal("9.999999 xmbl.c", aliceBalance.Out.Trim());
        Assert.Equal("2.500001 xmbl.c", bobBalance.Out.Trim());
        var lines = history.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("1\t", lines[0], StringComparison.Ordinal);
        Assert.Contains("TransferIn\t2.000001\t2.000001", lines[0], StringComparison.Ordinal);
        Assert.Contains("TransferIn\t0.500000\t2.500001", lines[1], StringComparison.Ordinal);
        Assert.Equal(1, tooMuch.Exit);
        Assert.Contains("402", tooMuch.Err, StringComparison.Ordinal);
        Assert.Contains("9.999999", tooMuch.Err, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(string wallet, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var exit = await CliApplication.RunAsync(["--gateway", fixture.Silo.BaseAddress.ToString(), "--wallet", Path.Combine(_files.Path, wallet), .. args], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
