using System.Text;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary><c>xmbl wallet new|show|faucet|transfer|balance|history|proof</c> and a first job against a running silo.</summary>
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

    [Fact]
    public async Task The_exact_wallet_commands_work_as_written_and_the_proof_of_the_balance_verifies_offline()
    {
        var f = Path.Combine(_files.Path, "exact.key");
        var other = (await RunAsync("other.key", "wallet", "new")).Out.Trim();

        var created = await RunExactAsync("wallet", "new", "--wallet", f);
        var shown = await RunExactAsync("wallet", "show", "--wallet", f);
        var faucet = await RunExactAsync("wallet", "faucet", "7.25", "--wallet", f);
        var transfer = await RunExactAsync("wallet", "transfer", other, "1.25", "--wallet", f);
        var balance = await RunExactAsync("wallet", "balance", "--wallet", f);

        Assert.Equal(0, created.Exit);
        var did = created.Out.Trim();
        Assert.StartsWith("did:key:z6Mk", did, StringComparison.Ordinal);
        Assert.Equal(did, shown.Out.Trim());
        Assert.Equal(0, faucet.Exit);
        Assert.Equal(0, transfer.Exit);
        Assert.Equal("6.000000 xmbl.c", balance.Out.Trim());

        // Epochs seal every minute here (the fixture's EpochInterval): wait for one sealed after the transfer.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        var proof = await RunExactAsync("wallet", "proof", "--wallet", f);
        while ((proof.Exit != 0 || !proof.Out.Contains(" held 6.000000 ", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            Assert.True(proof.Exit == 0 || proof.Err.Contains("404", StringComparison.Ordinal), proof.Err);
            await Task.Delay(TimeSpan.FromSeconds(5));
            proof = await RunExactAsync("wallet", "proof", "--wallet", f);
        }

        Assert.True(proof.Exit == 0, proof.Err);
        Assert.StartsWith($"verified: {did} held 6.000000 xmbl.c in epoch ", proof.Out, StringComparison.Ordinal);
        var wrongRoot = await RunExactAsync("wallet", "proof", "--root", new string('0', 64), "--wallet", f);
        Assert.Equal(1, wrongRoot.Exit);
        Assert.Contains("does NOT verify", wrongRoot.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Job_submit_on_a_fresh_machine_creates_the_wallet_funds_the_hold_from_the_faucet_and_runs()
    {
        var wasm = Path.Combine(_files.Path, "hello.wasm");
        await File.WriteAllBytesAsync(wasm, Jobs.JobsApi.Fixture("hello.wasm"));

        // The fixture's faucet gives at most 50 xmbl.c a request: a fuel limit whose hold (2 runs) fits in that.
        var run = await RunAsync("fresh.key", "job", "submit", wasm, "--fuel", "1000000000", "--wait");

        Assert.True(run.Exit == 0, run.Err);
        Assert.Contains("no wallet yet; created", run.Err, StringComparison.Ordinal);
        Assert.Contains("got 20.000000 xmbl.c from the cluster's faucet", run.Err, StringComparison.Ordinal);
        Assert.Equal("Hello, world!\n", run.Out);
    }

    private async Task<(int Exit, string Out, string Err)> RunExactAsync(params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var exit = await CliApplication.RunAsync([.. args, "--gateway", fixture.Silo.BaseAddress.ToString()], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
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
