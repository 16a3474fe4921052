using System.CommandLine;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl wallet new|show|balance|transfer|faucet|history</c>: the key the CLI signs requests with (see <see cref="Wallets"/>) and its account.</summary>
public static class WalletCommand
{
    /// <summary>Creates the <c>wallet</c> command group.</summary>
    public static Command Create(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var wallet = new Command("wallet", "Your account: the key xmbl signs requests with.");
        wallet.Subcommands.Add(New(console));
        wallet.Subcommands.Add(Show(console));
        foreach (var command in WalletLedgerCommands.Create(console))
        {
            wallet.Subcommands.Add(command);
        }

        return wallet;
    }

    private static Command New(CliConsole console)
    {
        var command = new Command("new", "Create a wallet (never overwrites one) and print its did:key.");
        command.SetAction(async (parse, ct) =>
        {
            var path = Wallets.PathOf(parse);
            if (File.Exists(path))
            {
                await console.Error.WriteLineAsync($"error: a wallet already exists at {path}; pick another --wallet FILE (or move it away first).");
                return CliExitCodes.Failure;
            }

            try
            {
                using var key = Wallets.Load(path);
                await console.Out.WriteLineAsync(key.PublicKey.Did);
                await console.Error.WriteLineAsync($"xmbl: created {path} (readable by you only; keep a copy: it is your account)");
                return CliExitCodes.Success;
            }
            catch (IOException ex)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }
        });
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var command = new Command("show", "Print the wallet's did:key (the account xmbl acts as).");
        command.SetAction(async (parse, ct) =>
        {
            var path = Wallets.PathOf(parse);
            if (!File.Exists(path))
            {
                await console.Error.WriteLineAsync($"error: no wallet at {path}; create one with 'xmbl wallet new'.");
                return CliExitCodes.Failure;
            }

            try
            {
                using var key = Wallets.Load(path);
                await console.Out.WriteLineAsync(key.PublicKey.Did);
                return CliExitCodes.Success;
            }
            catch (IOException ex)
            {
                await console.Error.WriteLineAsync("error: " + ex.Message);
                return CliExitCodes.Failure;
            }
        });
        return command;
    }
}
