using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Grpc.V1;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Ledger;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary><c>xmbl.v1.Cluster</c>: the same view as <c>GET /api/cluster</c>.</summary>
internal sealed class ClusterGrpcService(IServiceProvider services, IGrainFactory grains, NodeDirectory nodes, ReputationDirectory reputations, GrpcEndpoint endpoint) : V1.Cluster.ClusterBase
{
    public override async Task<V1.ClusterView> GetCluster(GetClusterRequest request, ServerCallContext context)
    {
        var view = await ClusterEndpoints.ReadAsync(grains, services.GetService<ILocalSiloDetails>(), nodes, reputations, endpoint, services.GetService<P2P.P2PBridge>(), context.CancellationToken);
        var message = new V1.ClusterView { LocalSiloId = view.LocalSiloId ?? "", Grpc = view.Grpc ?? "" };
        message.Silos.Add(view.Silos.Select(s => new V1.SiloView
        {
            Id = s.Id,
            Address = s.Address,
            Status = s.Status,
            Started = GrpcViews.Time(s.Started),
            LastHeartbeat = GrpcViews.Time(s.LastHeartbeat),
        }));
        message.Nodes.Add(view.Nodes.Select(n => new V1.NodeView
        {
            Id = n.Id,
            SiloId = n.SiloId,
            Address = n.Address,
            Operator = n.Operator,
            Status = n.Status,
            Cores = n.Cores,
            MemoryBytes = n.MemoryBytes,
            StorageBytes = n.StorageBytes,
            Gpu = n.Gpu,
            Concurrency = n.Concurrency,
            PricePerMillionFuel = GrpcViews.Text(n.PricePerMillionFuel),
            PricePerGbMonth = GrpcViews.Text(n.PricePerGbMonth),
            Reputation = n.Reputation,
            RunningJobs = n.RunningJobs,
            UsedStorageBytes = n.UsedStorageBytes,
            RegisteredAt = GrpcViews.Time(n.RegisteredAt),
            LastHeartbeat = GrpcViews.Time(n.LastHeartbeat),
            Engine = n.Engine ?? "",
            EngineVersion = n.EngineVersion ?? "",
        }));
        return message;
    }
}

/// <summary><c>xmbl.v1.Ledger</c>: accounts, transfers and histories through the ledger service.</summary>
internal sealed class LedgerGrpcService(LedgerService ledger) : V1.Ledger.LedgerBase
{
    public override async Task<Account> GetAccount(GetAccountRequest request, ServerCallContext context) =>
        View(await ledger.GetAsync(Did(request.Id, "id")));

    public override async Task<TransferResult> Transfer(TransferRequest request, ServerCallContext context)
    {
        var to = Did(request.To, "to");
        if (request.Amount <= 0)
        {
            throw GrpcErrors.InvalidArgument("amount", "amount must be a whole number of micro-xmbl.c from 1 to 9223372036854775807 (1 xmbl.c = 1000000).");
        }

        if (request.Nonce <= 0)
        {
            throw GrpcErrors.InvalidArgument("nonce", "nonce must be a whole number greater than the account's last nonce (next_nonce in GetAccount).");
        }

        var from = GrpcSigning.CallerOf(context).Account;
        if (string.Equals(to, from, StringComparison.Ordinal))
        {
            throw GrpcErrors.InvalidArgument("to", "to is the sending account itself; a transfer moves credits between two accounts.");
        }

        var outcome = await ledger.TransferAsync(from, to, request.Amount, request.Nonce);
        var account = outcome.Account;
        return outcome.Refusal switch
        {
            LedgerRefusal.Done => new TransferResult
            {
                Id = outcome.TransferId!,
                From = from,
                To = to,
                Amount = request.Amount,
                Nonce = request.Nonce,
                Balance = account.Balance,
                Delivered = outcome.Delivered,
            },
            LedgerRefusal.InsufficientFunds => throw GrpcErrors.FailedPrecondition(
                "insufficient-funds",
                $"The balance of {account.Account} is {Credits.Format(account.Balance)} xmbl.c; {Credits.Format(request.Amount)} xmbl.c is more. Nothing was moved."),
            LedgerRefusal.NonceUsed => throw GrpcErrors.FailedPrecondition(
                "nonce-used",
                $"Nonce already used: the last nonce of {account.Account} is {account.LastNonce}; send a greater one. Nothing was moved."),
            _ => throw GrpcErrors.InvalidArgument("amount", $"amount would take the balance of {account.Account} past the largest amount the ledger holds."),
        };
    }

    public override async Task<HistoryResponse> History(HistoryRequest request, ServerCallContext context)
    {
        var did = Did(request.Id, "id");
        long after = 0;
        if (request.PageToken.Length > 0 && !long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            throw GrpcErrors.InvalidArgument("page_token", "page_token must be the next_page_token of the previous page.");
        }

        var (items, next) = await ledger.HistoryAsync(did, after, JobsGrpcService.PageSize(request.PageSize, 50, 1000), context.CancellationToken);
        var response = new HistoryResponse { NextPageToken = next?.ToString(CultureInfo.InvariantCulture) ?? "" };
        response.Items.Add(items.Select(e => new HistoryEntry
        {
            Seq = e.Seq,
            Kind = e.Kind.ToString(),
            Amount = e.Amount,
            Balance = e.Balance,
            Counterparty = e.Counterparty ?? "",
            TransferId = e.TransferId ?? "",
            At = GrpcViews.Time(e.At),
        }));
        return response;
    }

    private static string Did(string text, string field) =>
        PublicIdentity.TryParseDid(text, out var identity)
            ? identity!.Did
            : throw GrpcErrors.InvalidArgument(field, $"{field} is not an account: accounts are did:key identities (did:key:z6Mk…).");

    private static Account View(AccountSnapshot a) => new()
    {
        Id = a.Account,
        Balance = a.Balance,
        BalanceXmblC = Credits.Format(a.Balance),
        NextNonce = a.LastNonce + 1,
        PendingOut = a.PendingOut,
        HistoryCount = a.HistoryCount,
    };
}
