using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Ledger;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl wallet balance|transfer|faucet|history|proof</c>: the wallet's account on the cluster's ledger.</summary>
internal static class WalletLedgerCommands
{
    public static IEnumerable<Command> Create(CliConsole console)
    {
        yield return Balance(console);
        yield return Transfer(console);
        yield return Faucet(console);
        yield return History(console);
        yield return Proof(console);
    }

    private static Command Balance(CliConsole console)
    {
        var command = new Command("balance", "Print the wallet's balance in xmbl.c.");
        command.SetAction((parse, ct) => RunAsync(parse, console, async client =>
        {
            var account = await client.GetAccountAsync(ct);
            await console.Out.WriteLineAsync(account.GetProperty("balanceXmblC").GetString() + " xmbl.c");
            var pending = account.GetProperty("pendingOut").GetInt64();
            if (pending > 0)
            {
                await console.Error.WriteLineAsync($"xmbl: {Credits.Format(pending)} xmbl.c sent and not yet acknowledged by receivers (delivered by retries)");
            }
        }));
        return command;
    }

    private static Command Transfer(CliConsole console)
    {
        var to = new Argument<string>("DID")
        {
            Description = "The receiving account (did:key:z6Mk…).",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!PublicIdentity.TryParseDid(text, out var identity))
                {
                    result.AddError($"DID: '{text}' is not a did:key account (did:key:z6Mk…).");
                    return null!;
                }

                return identity!.Did;
            },
        };
        var amount = AmountArgument();
        var command = new Command("transfer", "Send xmbl.c from the wallet's account to another account.") { to, amount };
        command.SetAction((parse, ct) => RunAsync(parse, console, async client =>
        {
            var receiver = parse.GetValue(to)!;
            if (string.Equals(receiver, client.Account, StringComparison.Ordinal))
            {
                throw new JobClientException("DID is this wallet's own account; send to another account.");
            }

            var sent = await client.TransferAsync(receiver, parse.GetValue(amount), ct);
            await console.Out.WriteLineAsync($"sent {sent.GetProperty("amountXmblC").GetString()} xmbl.c to {receiver} (transfer {sent.GetProperty("id").GetString()}); balance {Credits.Format(sent.GetProperty("balance").GetInt64())} xmbl.c");
        }));
        return command;
    }

    private static Command Faucet(CliConsole console)
    {
        var amount = AmountArgument();
        var command = new Command("faucet", "Ask the cluster's faucet (development clusters) for xmbl.c.") { amount };
        command.SetAction((parse, ct) => RunAsync(parse, console, async client =>
        {
            var account = await client.FaucetAsync(parse.GetValue(amount), ct);
            await console.Out.WriteLineAsync($"received {Credits.Format(parse.GetValue(amount))} xmbl.c; balance {account.GetProperty("balanceXmblC").GetString()} xmbl.c");
        }));
        return command;
    }

    private static Command History(CliConsole console)
    {
        var command = new Command("history", "Print the wallet's history, oldest first: entry, time, kind, amount, balance, counterparty.");
        command.SetAction((parse, ct) => RunAsync(parse, console, async client =>
        {
            string? after = null;
            do
            {
                var page = await client.HistoryAsync(after, ct);
                foreach (var entry in page.GetProperty("items").EnumerateArray())
                {
                    var counterparty = entry.TryGetProperty("counterparty", out var c) ? c.GetString() : "";
                    await console.Out.WriteLineAsync(string.Join(
                        '\t',
                        entry.GetProperty("seq").GetInt64().ToString(CultureInfo.InvariantCulture),
                        entry.GetProperty("at").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture),
                        entry.GetProperty("kind").GetString(),
                        entry.GetProperty("amountXmblC").GetString(),
                        Credits.Format(entry.GetProperty("balance").GetInt64()),
                        counterparty));
                }

                after = page.GetProperty("next").ValueKind == JsonValueKind.String ? page.GetProperty("next").GetString() : null;
            }
            while (after is not null);
        }));
        return command;
    }

    private static Command Proof(CliConsole console)
    {
        var root = new Option<string?>("--root")
        {
            Description = "Check against this root (64 hex digits, e.g. published elsewhere) instead of the gateway's record of the epoch.",
        };
        var command = new Command("proof", "Fetch the inclusion proof of the wallet's balance in the last sealed epoch and verify it offline; exit 1 when it does not hold.") { root };
        command.SetAction((parse, ct) => RunAsync(parse, console, async client =>
        {
            var proved = await client.ProofAsync(ct);
            var epoch = proved.GetProperty("epoch");
            var number = epoch.GetProperty("number").GetInt64();
            var rootHex = parse.GetValue(root) ?? (await client.EpochRootAsync(number, ct));
            byte[] rootBytes;
            byte[] proofBytes;
            try
            {
                rootBytes = Convert.FromHexString(rootHex);
                proofBytes = Convert.FromBase64String(proved.GetProperty("proof").GetString() ?? "");
            }
            catch (FormatException)
            {
                throw new JobClientException($"the root '{rootHex}' or the proof is not well formed (the root is 64 hex digits).");
            }

            // Offline: only the proof's bytes and the root; nothing the gateway says about the balance is trusted.
            if (!BalanceProof.TryParse(proofBytes, out var proof) || !string.Equals(proof!.Account, client.Account, StringComparison.Ordinal) || !proof.Verify(rootBytes))
            {
                throw new JobClientException($"the proof does NOT verify against root {rootHex} of epoch {number}.");
            }

            await console.Out.WriteLineAsync($"verified: {client.Account} held {Credits.Format(proof.Balance)} xmbl.c in epoch {number} (root {rootHex.ToLowerInvariant()}, {proof.TreeSize} accounts, sealed {epoch.GetProperty("sealedAt").GetDateTimeOffset():u})");
        }));
        return command;
    }

    private static Argument<long> AmountArgument() => new("AMOUNT")
    {
        Description = "xmbl.c, with up to 6 decimals (e.g. 2.5 or 0.000001).",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (!Credits.TryParse(text, out var micro))
            {
                result.AddError($"AMOUNT: '{text}' is not an amount of xmbl.c: write a positive number with at most 6 decimals, e.g. 2.5.");
                return 0;
            }

            return micro;
        },
    };

    /// <summary>Runs <paramref name="action"/> with a signing client; gateway refusals and I/O errors are one line and exit 1.</summary>
    /// <remarks>Like every command that needs a wallet, a missing one is created (and the creation said on stderr).</remarks>
    private static async Task<int> RunAsync(ParseResult parse, CliConsole console, Func<LedgerClient, Task> action)
    {
        Ed25519KeyPair key;
        try
        {
            key = await Wallets.OpenOrCreateAsync(parse, console);
        }
        catch (IOException ex)
        {
            await console.Error.WriteLineAsync("error: " + ex.Message);
            return CliExitCodes.Failure;
        }

        using var client = LedgerClient.Create(GlobalOptions.GetGateway(parse), key);
        try
        {
            await action(client);
            return CliExitCodes.Success;
        }
        catch (Exception ex) when (ex is JobClientException or HttpRequestException or IOException)
        {
            await console.Error.WriteLineAsync("error: " + ex.Message);
            return CliExitCodes.Failure;
        }
    }
}
