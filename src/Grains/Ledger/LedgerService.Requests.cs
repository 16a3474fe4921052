using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Ledger;

namespace Xmbl.Cluster.Grains.Ledger;

/// <summary>
/// The ledger's requests as the gateway takes them: who may mint, whether the faucet gives, and the fields' rules.
/// The REST endpoints and the gRPC services both call these; a field a transport could not read arrives as 0 or null
/// and is refused here with the same words.
/// </summary>
public sealed partial class LedgerService
{
    /// <summary>How a refused amount reads.</summary>
    public const string AmountRule = "amount must be a whole number of micro-xmbl.c from 1 to 9223372036854775807 (1 xmbl.c = 1000000).";

    /// <summary>How a refused nonce reads.</summary>
    public const string NonceRule = "nonce must be a whole number greater than the account's last nonce (see nextNonce in GET /api/accounts/{id}).";

    /// <summary>Reads an account named in a request: a did:key, in its canonical form.</summary>
    /// <param name="text">The text given.</param>
    /// <param name="field">The request field, for the refusal.</param>
    /// <returns>The did:key.</returns>
    /// <exception cref="RequestRefusedException">Not a did:key.</exception>
    public static string ParseAccount(string? text, string field) =>
        PublicIdentity.TryParseDid(text, out var identity)
            ? identity!.Did
            : throw RequestRefusedException.Invalid(field, $"'{Shorten(text ?? "")}' is not an account: accounts are did:key identities (did:key:z6Mk…).");

    /// <summary>Moves credits from <paramref name="from"/> (the signer) to <paramref name="to"/>, after checking the fields.</summary>
    /// <param name="from">The signing account.</param>
    /// <param name="to">The receiver as given; null when the transport had no text for it.</param>
    /// <param name="amount">Micro-xmbl.c; 0 when the transport could not read a whole number.</param>
    /// <param name="nonce">Greater than the account's last nonce; 0 when unreadable.</param>
    /// <returns>The outcome and the receiver's canonical did:key.</returns>
    /// <exception cref="RequestRefusedException">A field is invalid (nothing was moved).</exception>
    public async Task<(LedgerOutcome Outcome, string To)> RequestTransferAsync(string from, string? to, long amount, long nonce)
    {
        var receiver = PublicIdentity.TryParseDid(to, out var identity)
            ? identity!.Did
            : throw RequestRefusedException.Invalid("to", "to must be the receiving account's did:key (did:key:z6Mk…).");
        CheckAmount(amount);
        CheckNonce(nonce);
        if (string.Equals(receiver, from, StringComparison.Ordinal))
        {
            throw RequestRefusedException.Invalid("to", "to is the sending account itself; a transfer moves credits between two accounts.");
        }

        return (await TransferAsync(from, receiver, amount, nonce), receiver);
    }

    /// <summary>Mints into the treasury's account for <paramref name="caller"/>, which must be the treasury.</summary>
    /// <param name="caller">The signing account.</param>
    /// <param name="amount">Micro-xmbl.c; 0 when unreadable.</param>
    /// <param name="nonce">Greater than the treasury's last nonce; 0 when unreadable.</param>
    /// <returns>The outcome.</returns>
    /// <exception cref="RequestRefusedException">No treasury, the caller is not it (forbidden), or a field is invalid.</exception>
    public Task<LedgerOutcome> RequestMintAsync(string caller, long amount, long nonce)
    {
        AuthorizeMint(caller);
        CheckAmount(amount);
        CheckNonce(nonce);
        return MintAsync(amount, nonce);
    }

    /// <summary>Checks that <paramref name="caller"/> may mint: the configured treasury (a transport may ask before reading a body).</summary>
    /// <param name="caller">The signing account.</param>
    /// <exception cref="RequestRefusedException">No treasury is configured, or the caller is not it (forbidden).</exception>
    public void AuthorizeMint(string caller)
    {
        if (Treasury is not { } treasury)
        {
            throw RequestRefusedException.Forbidden($"Nobody mints on this cluster: no treasury is configured ({LedgerOptions.SectionName}:Treasury).");
        }

        if (!string.Equals(caller, treasury, StringComparison.Ordinal))
        {
            throw RequestRefusedException.Forbidden($"Only the treasury ({treasury}) mints; the request was made by {caller}.");
        }
    }

    /// <summary>Faucet credits for <paramref name="account"/>, when this cluster has a faucet.</summary>
    /// <param name="account">The signing account.</param>
    /// <param name="amount">Micro-xmbl.c; 0 when unreadable.</param>
    /// <returns>The outcome (a <see cref="LedgerRefusal.FaucetLimit"/> past the limits).</returns>
    /// <exception cref="RequestRefusedException">No faucet (forbidden), or the amount is invalid.</exception>
    public Task<LedgerOutcome> RequestFaucetAsync(string account, long amount)
    {
        AuthorizeFaucet();
        CheckAmount(amount);
        return FaucetAsync(account, amount);
    }

    /// <summary>Checks that this cluster's faucet gives (a transport may ask before reading a body).</summary>
    /// <exception cref="RequestRefusedException">The faucet is off (forbidden).</exception>
    public void AuthorizeFaucet()
    {
        if (!FaucetEnabled)
        {
            throw RequestRefusedException.Forbidden($"This cluster has no faucet ({LedgerOptions.SectionName}:Faucet:Enabled is off; it is on by default in embedded mode only).");
        }
    }

    /// <summary>Why the ledger refused <paramref name="amount"/>, as the client reads it (not for <see cref="LedgerRefusal.Done"/>).</summary>
    /// <param name="outcome">The refused outcome.</param>
    /// <param name="amount">The amount asked for.</param>
    /// <returns>The detail.</returns>
    public string Describe(LedgerOutcome outcome, long amount)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var account = outcome.Account;
        return outcome.Refusal switch
        {
            LedgerRefusal.InsufficientFunds => $"The balance of {account.Account} is {Credits.Format(account.Balance)} xmbl.c; {Credits.Format(amount)} xmbl.c is more. Nothing was moved.",
            LedgerRefusal.NonceUsed => $"Nonce already used: the last nonce of {account.Account} is {account.LastNonce}; send a greater one. Nothing was moved.",
            LedgerRefusal.FaucetLimit when outcome.RetryAfter is { } retry => $"The faucet gives an account at most {Credits.Format(FaucetLimits.MaxPerWindow)} xmbl.c per {FaucetLimits.Window}; ask again after {retry:O}.",
            LedgerRefusal.FaucetLimit => $"amount is more than the faucet gives per request ({Credits.Format(FaucetLimits.MaxPerRequest)} xmbl.c).",
            LedgerRefusal.Done => throw new ArgumentException("The outcome was not refused.", nameof(outcome)),
            _ => $"amount would take the balance of {account.Account} past the largest amount the ledger holds.",
        };
    }

    private static void CheckAmount(long amount)
    {
        if (amount <= 0)
        {
            throw RequestRefusedException.Invalid("amount", AmountRule);
        }
    }

    private static void CheckNonce(long nonce)
    {
        if (nonce <= 0)
        {
            throw RequestRefusedException.Invalid("nonce", NonceRule);
        }
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
