using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Gateway.Grpc.V1;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Nodes;
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
            EngineFeatures = { n.EngineFeatures },
            Edge = n.Edge,
            Relayed = n.Relayed,
            CorruptShards = n.CorruptShards,
        }));
        return message;
    }
}

/// <summary><c>xmbl.v1.Ledger</c>: accounts, transfers, histories, mints and the faucet through the ledger service.</summary>
internal sealed class LedgerGrpcService(LedgerService ledger, Paging paging, [FromKeyedServices(ClusterClock.Key)] TimeProvider clock) : V1.Ledger.LedgerBase
{
    public override async Task<Account> GetAccount(GetAccountRequest request, ServerCallContext context) =>
        View(await ledger.GetAsync(LedgerService.ParseAccount(request.Id, "id")));

    public override async Task<TransferResult> Transfer(TransferRequest request, ServerCallContext context)
    {
        var from = GrpcSigning.CallerOf(context).Account;
        var (outcome, to) = await ledger.RequestTransferAsync(from, request.To, request.Amount, request.Nonce);
        return outcome.Refusal == LedgerRefusal.Done
            ? new TransferResult
            {
                Id = outcome.TransferId!,
                From = from,
                To = to,
                Amount = request.Amount,
                Nonce = request.Nonce,
                Balance = outcome.Account.Balance,
                Delivered = outcome.Delivered,
            }
            : throw Refused(outcome, request.Amount);
    }

    public override async Task<Account> Mint(MintRequest request, ServerCallContext context)
    {
        var outcome = await ledger.RequestMintAsync(GrpcSigning.CallerOf(context).Account, request.Amount, request.Nonce);
        return outcome.Refusal == LedgerRefusal.Done ? View(outcome.Account) : throw Refused(outcome, request.Amount);
    }

    public override async Task<Account> Faucet(FaucetRequest request, ServerCallContext context)
    {
        var outcome = await ledger.RequestFaucetAsync(GrpcSigning.CallerOf(context).Account, request.Amount);
        return outcome.Refusal == LedgerRefusal.Done ? View(outcome.Account) : throw Refused(outcome, request.Amount);
    }

    public override async Task<HistoryResponse> History(HistoryRequest request, ServerCallContext context)
    {
        var did = LedgerService.ParseAccount(request.Id, "id");
        long after = 0;
        if (request.PageToken.Length > 0 && !long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            throw GrpcErrors.InvalidArgument("page_token", "page_token must be the next_page_token of the previous page.");
        }

        var (items, next) = await ledger.HistoryAsync(did, after, JobsGrpcService.PageSize(paging, request.PageSize), context.CancellationToken);
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

    // REST's 402, 409, 429 and 400 as FAILED_PRECONDITION, RESOURCE_EXHAUSTED and INVALID_ARGUMENT, in the ledger's words.
    private RpcException Refused(LedgerOutcome outcome, long amount)
    {
        var detail = ledger.Describe(outcome, amount);
        return outcome.Refusal switch
        {
            LedgerRefusal.InsufficientFunds => GrpcErrors.FailedPrecondition("insufficient-funds", detail),
            LedgerRefusal.NonceUsed => GrpcErrors.FailedPrecondition("nonce-used", detail),
            LedgerRefusal.FaucetLimit when outcome.RetryAfter is { } retry => new RpcException(
                new Status(StatusCode.ResourceExhausted, detail),
                new Metadata
                {
                    { GrpcErrors.ReasonTrailer, "faucet-limit" },
                    { GrpcErrors.RetryAfterTrailer, Math.Max(1, (long)Math.Ceiling((retry - clock.GetUtcNow()).TotalSeconds)).ToString(CultureInfo.InvariantCulture) },
                }),
            _ => GrpcErrors.InvalidArgument("amount", detail),
        };
    }

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
