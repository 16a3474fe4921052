using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Ledger;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>The ledger: accounts, transfers, histories, mints and the faucet (docs/api.md, "Ledger").</summary>
internal static class LedgerEndpoints
{
    /// <summary>The largest ledger request body: a few short fields.</summary>
    public const int MaxBodyBytes = 4096;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 4, AllowDuplicateProperties = false };

    public static void MapLedgerEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/transfers", TransferAsync).WithName("Transfer").Accepts<JsonElement>("application/json")
            .WithSummary("Moves micro-xmbl.c from the signer's account: {\"to\": did, \"amount\": micro, \"nonce\": n > the account's last}. 402 when the balance is short, 409 for a used nonce.");
        app.MapGet("/api/accounts/{id}", GetAccountAsync).WithName("GetAccount")
            .WithSummary("The account's public record: balance, its did:key, the next nonce, the nodes it operates and their reputation.");
        app.MapGet("/api/accounts/{id}/history", HistoryAsync).WithName("AccountHistory")
            .WithSummary("The account's history, oldest first; paging ?after=<next>&limit=.");
        app.MapGet("/api/accounts/{id}/proof", ProofAsync).WithName("AccountProof")
            .WithSummary("An inclusion proof of the account's balance against the last sealed epoch's Merkle root; verify it offline (src/Ledger, xmbl wallet proof). 404 before the first epoch or for an account not in it.");
        app.MapGet("/api/ledger/epochs", EpochsAsync).WithName("LedgerEpochs")
            .WithSummary("The sealed epochs' Merkle roots over all balances, oldest first; paging ?after=<next>&limit=; latest is the last sealed.");
        app.MapPost("/api/mint", MintAsync).WithName("Mint").Accepts<JsonElement>("application/json")
            .WithSummary("Treasury only: creates micro-xmbl.c in the treasury's account: {\"amount\": micro, \"nonce\": n}.");
        app.MapPost("/api/faucet", FaucetAsync).WithName("Faucet").Accepts<JsonElement>("application/json")
            .WithSummary("Development credits for the signer: {\"amount\": micro}, within per-request and per-window limits (429 past them). Off in cluster mode unless configured.");
    }

    private static async Task<IResult> TransferAsync(HttpContext context, LedgerService ledger, CancellationToken cancellationToken)
    {
        var body = await ReadAsync(context, cancellationToken);
        if (body.Problem is { } refused)
        {
            return refused;
        }

        using var document = body.Document!;
        var root = document.RootElement;
        if (Unknown(root, "to", "amount", "nonce") is { } unknown)
        {
            return unknown;
        }

        // Fields this cannot read as their type go on as 0 or null: the ledger refuses them in its own words.
        var to = root.TryGetProperty("to", out var toElement) && toElement.ValueKind == JsonValueKind.String ? toElement.GetString() : null;
        var amount = Whole(root, "amount");
        var nonce = Whole(root, "nonce");
        var from = Accounts.Of(context);
        try
        {
            var (outcome, receiver) = await ledger.RequestTransferAsync(from, to, amount, nonce);
            return outcome.Refusal switch
            {
                LedgerRefusal.Done => Results.Ok(new TransferView(outcome.TransferId!, from, receiver, amount, Credits.Format(amount), nonce, outcome.Account.Balance, outcome.Delivered)),
                _ => Refused(ledger, outcome, amount),
            };
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task<IResult> MintAsync(HttpContext context, LedgerService ledger, CancellationToken cancellationToken)
    {
        var caller = Accounts.Of(context);
        try
        {
            // Refused before the body is read.
            ledger.AuthorizeMint(caller);
            var body = await ReadAsync(context, cancellationToken);
            if (body.Problem is { } refused)
            {
                return refused;
            }

            using var document = body.Document!;
            var root = document.RootElement;
            if (Unknown(root, "amount", "nonce") is { } unknown)
            {
                return unknown;
            }

            var amount = Whole(root, "amount");
            var outcome = await ledger.RequestMintAsync(caller, amount, Whole(root, "nonce"));
            return outcome.Refusal == LedgerRefusal.Done ? Results.Ok(AccountView.From(outcome.Account, [])) : Refused(ledger, outcome, amount);
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task<IResult> FaucetAsync(HttpContext context, LedgerService ledger, CancellationToken cancellationToken)
    {
        try
        {
            ledger.AuthorizeFaucet();
            var body = await ReadAsync(context, cancellationToken);
            if (body.Problem is { } refused)
            {
                return refused;
            }

            using var document = body.Document!;
            var root = document.RootElement;
            if (Unknown(root, "amount") is { } unknown)
            {
                return unknown;
            }

            var amount = Whole(root, "amount");
            var outcome = await ledger.RequestFaucetAsync(Accounts.Of(context), amount);
            return outcome.Refusal == LedgerRefusal.Done ? Results.Ok(AccountView.From(outcome.Account, [])) : Refused(ledger, outcome, amount, context);
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task<IResult> GetAccountAsync(string id, LedgerService ledger, NodeDirectory nodes, ReputationDirectory reputations, CancellationToken cancellationToken)
    {
        string did;
        try
        {
            did = LedgerService.ParseAccount(id, "id");
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }

        var snapshot = await ledger.GetAsync(did);
        var operated = (await nodes.ListAsync(cancellationToken)).Where(n => string.Equals(n.Node.Operator, did, StringComparison.Ordinal)).ToList();
        var scores = operated.Count == 0 ? null : await reputations.ListAsync(cancellationToken);
        var nodeViews = operated.Select(n => new OperatedNodeView(
            n.Node.NodeId,
            n.Node.SiloId,
            n.Alive ? "alive" : n.Node.Retired ? "retired" : "dead",
            scores!.TryGetValue(n.Node.NodeId, out var r) ? r.Score : NodeReputation.InitialScore)).ToList();
        return Results.Ok(AccountView.From(snapshot, nodeViews));
    }

    private static async Task<IResult> HistoryAsync(string id, HttpContext context, LedgerService ledger, string? after, string? limit, CancellationToken cancellationToken)
    {
        string did;
        try
        {
            did = LedgerService.ParseAccount(id, "id");
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }

        long afterSeq = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterSeq)))
        {
            return Problems.BadRequest("after must be the next cursor of the previous page (a whole number).");
        }

        if (!Problems.TryPageSize(context, limit, out var take, out var badLimit))
        {
            return badLimit;
        }

        var (items, next) = await ledger.HistoryAsync(did, afterSeq, take, cancellationToken);
        return Results.Ok(new HistoryView(
            [.. items.Select(HistoryEntryView.From)],
            next?.ToString(CultureInfo.InvariantCulture)));
    }

    private static async Task<IResult> ProofAsync(string id, LedgerEpochs epochs, CancellationToken cancellationToken)
    {
        string did;
        try
        {
            did = LedgerService.ParseAccount(id, "id");
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }

        if (await epochs.ProveAsync(did, cancellationToken) is not { } proved)
        {
            var latest = await epochs.LatestAsync(cancellationToken);
            return Problems.NotFound(latest is null
                ? "No ledger epoch is sealed yet; proofs are against the last sealed epoch (see GET /api/ledger/epochs)."
                : $"Account {did} is not in epoch {latest.Number} (sealed {latest.SealedAt:O}): it had no balance stored then. Ask again after the next epoch.");
        }

        var (epoch, proof) = proved;
        return Results.Ok(new ProofView(
            EpochView.From(epoch),
            proof.Account,
            proof.Balance,
            Credits.Format(proof.Balance),
            proof.LeafIndex,
            proof.TreeSize,
            [.. proof.Path.Select(Convert.ToHexStringLower)],
            Convert.ToBase64String(proof.ToBytes())));
    }

    private static async Task<IResult> EpochsAsync(LedgerEpochs epochs, string? after, string? limit, CancellationToken cancellationToken)
    {
        long afterNumber = 0;
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterNumber))
        {
            return Problems.BadRequest("after must be the next cursor of the previous page (a whole number).");
        }

        if (!Problems.TryPageSize(limit, 50, 1000, out var take, out var badLimit))
        {
            return badLimit;
        }

        var (items, next) = await epochs.ListAsync(afterNumber, take, cancellationToken);
        var latest = await epochs.LatestAsync(cancellationToken);
        return Results.Ok(new EpochsView(
            [.. items.Select(EpochView.From)],
            next?.ToString(CultureInfo.InvariantCulture),
            latest is null ? null : EpochView.From(latest)));
    }

    private static IResult Refused(LedgerService ledger, LedgerOutcome outcome, long amount, HttpContext? context = null)
    {
        var account = outcome.Account;
        var detail = ledger.Describe(outcome, amount);
        switch (outcome.Refusal)
        {
            case LedgerRefusal.InsufficientFunds:
                return Results.Problem(
                    detail: detail,
                    statusCode: StatusCodes.Status402PaymentRequired,
                    title: "Insufficient funds",
                    extensions: new Dictionary<string, object?> { ["balance"] = account.Balance, ["amount"] = amount });
            case LedgerRefusal.NonceUsed:
                return Results.Problem(
                    detail: detail,
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Nonce used",
                    extensions: new Dictionary<string, object?> { ["lastNonce"] = account.LastNonce, ["nextNonce"] = account.LastNonce + 1 });
            case LedgerRefusal.FaucetLimit when outcome.RetryAfter is { } retry && context is not null:
                var now = context.RequestServices.GetRequiredKeyedService<TimeProvider>(ClusterClock.Key).GetUtcNow();
                var seconds = Math.Max(1, (long)Math.Ceiling((retry - now).TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Results.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Faucet limit");
            default:
                return Problems.BadRequest(detail);
        }
    }

    private static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(context, MaxBodyBytes, "the ledger's fixed limit", cancellationToken);
        if (body.Problem is { } refused)
        {
            return (null, refused);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Bytes, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest("The body is not valid JSON: " + ex.Message));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, Problems.BadRequest("Send a JSON object, e.g. {\"to\": \"did:key:z6Mk…\", \"amount\": 1500000, \"nonce\": 1}."));
        }

        return (document, null);
    }

    private static IResult? Unknown(JsonElement root, params string[] known)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) < 0)
            {
                return Problems.BadRequest($"Unknown field '{Shorten(property.Name)}'; the fields are {string.Join(", ", known)}.");
            }
        }

        return null;
    }

    // A whole number the JSON holds, else 0 (which the ledger refuses as it refuses any amount or nonce below 1).
    private static long Whole(JsonElement root, string field) =>
        root.TryGetProperty(field, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value) ? value : 0;

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

/// <summary>A transfer made.</summary>
internal sealed record TransferView(string Id, string From, string To, long Amount, string AmountXmblC, long Nonce, long Balance, bool Delivered);

/// <summary>An account's public record (xmbl.t).</summary>
internal sealed record AccountView(
    string Id,
    string Did,
    long Balance,
    string BalanceXmblC,
    long NextNonce,
    long PendingOut,
    long Held,
    string HeldXmblC,
    int Holds,
    long StorageOwed,
    string StorageOwedXmblC,
    long HistoryCount,
    IReadOnlyList<OperatedNodeView> Nodes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? Reputation)
{
    public static AccountView From(AccountSnapshot account, IReadOnlyList<OperatedNodeView> nodes) => new(
        account.Account,
        account.Account,
        account.Balance,
        Credits.Format(account.Balance),
        account.LastNonce + 1,
        account.PendingOut,
        account.Held,
        Credits.Format(account.Held),
        account.Holds,
        account.StorageOwed,
        Credits.Format(account.StorageOwed),
        account.HistoryCount,
        nodes,
        nodes.Count == 0 ? null : nodes.Average(n => n.Reputation));
}

/// <summary>A node the account operates.</summary>
internal sealed record OperatedNodeView(string Id, string SiloId, string Status, double Reputation);

/// <summary>A page of history.</summary>
internal sealed record HistoryView(IReadOnlyList<HistoryEntryView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Next);

/// <summary>A history entry.</summary>
internal sealed record HistoryEntryView(long Seq, LedgerEntryKind Kind, long Amount, string AmountXmblC, long Balance, string? Counterparty, string? TransferId, DateTimeOffset At)
{
    public static HistoryEntryView From(LedgerEntry e) => new(e.Seq, e.Kind, e.Amount, Credits.Format(e.Amount), e.Balance, e.Counterparty, e.TransferId, e.At);
}

/// <summary>A sealed epoch.</summary>
internal sealed record EpochView(long Number, string Root, long Accounts, long Total, string TotalXmblC, DateTimeOffset SealedAt)
{
    public static EpochView From(LedgerEpoch e) => new(e.Number, e.Root, e.Accounts, e.Total, Credits.Format(e.Total), e.SealedAt);
}

/// <summary>A page of epochs, and the last sealed one.</summary>
internal sealed record EpochsView(
    IReadOnlyList<EpochView> Items,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Next,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] EpochView? Latest);

/// <summary>An inclusion proof: the leaf, its position, the sibling hashes from the leaf up, and the binary form (base64) that <c>BalanceProof.TryParse</c> reads.</summary>
internal sealed record ProofView(EpochView Epoch, string Account, long Balance, string BalanceXmblC, long LeafIndex, long TreeSize, IReadOnlyList<string> Path, string Proof);
