using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Gateway.P2P;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary><c>GET /api/cluster</c>: silos and nodes.</summary>
internal static class ClusterEndpoints
{
    public static void MapClusterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cluster", GetClusterAsync)
            .WithName("GetCluster")
            .WithSummary("Silos (id, address, status, started, last heartbeat) and nodes (resources, prices, reputation, liveness).");
    }

    // A standalone gateway is no silo: it has no ILocalSiloDetails and answers with no localSiloId.
    private static async Task<IResult> GetClusterAsync(IGrainFactory grains, [FromServices] ILocalSiloDetails? local, NodeDirectory nodes, ReputationDirectory reputations, [FromServices] Grpc.GrpcEndpoint? grpc, [FromServices] P2PBridge? bridge, CancellationToken cancellationToken) =>
        Results.Ok(await ReadAsync(grains, local, nodes, reputations, grpc, bridge, cancellationToken));

    /// <summary>The cluster view, for REST, gRPC and the network page's feed.</summary>
    internal static async Task<ClusterView> ReadAsync(IGrainFactory grains, ILocalSiloDetails? local, NodeDirectory nodes, ReputationDirectory reputations, Grpc.GrpcEndpoint? grpc, P2PBridge? bridge, CancellationToken cancellationToken)
    {
        // The membership table as Orleans keeps it (IManagementGrain works from silos and clients alike).
        var silos = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false, cancellationToken);
        var nodeList = await nodes.ListAsync(cancellationToken);
        // Reputation is earned from validation outcomes and kept per node identity by the reputation grains.
        var scores = await reputations.ListAsync(cancellationToken);
        var view = new ClusterView(
            local?.Name,
            [.. silos.OrderBy(s => s.StartTime).Select(s => new SiloView(s.SiloName, s.SiloAddress.ToString(), s.Status.ToString(), s.StartTime, s.IAmAliveTime))],
            [.. nodeList.Select(n => new NodeView(
                n.Node.NodeId,
                n.Node.SiloId,
                n.Node.Address,
                n.Node.Operator,
                NodeDetails.StatusOf(n),
                n.Node.Resources.Cores,
                n.Node.Resources.MemoryBytes,
                n.Node.Resources.StorageBytes,
                n.Node.Resources.Gpu,
                n.Node.Resources.Concurrency,
                n.Node.Prices.PerMillionFuel,
                n.Node.Prices.PerGbMonth,
                scores.TryGetValue(n.Node.NodeId, out var r) ? r.Score : NodeReputation.InitialScore,
                n.Node.RunningJobs,
                n.Node.UsedStorageBytes,
                n.Node.RegisteredAt,
                n.Node.LastHeartbeat,
                n.Node.Resources.Engine,
                n.Node.Resources.EngineVersion,
                n.Node.Resources.EngineFeatures ?? [],
                n.Node.Edge,
                n.Node.Relayed,
                r?.CorruptShards ?? 0))])
        {
            Grpc = grpc?.Url,
            P2p = bridge?.Address,
        };
        return view;
    }
}

/// <summary>The cluster as <c>GET /api/cluster</c> shows it.</summary>
/// <param name="LocalSiloId">The silo that answered; null (left out) when a standalone gateway answered.</param>
/// <param name="Silos">Every silo in the membership table.</param>
/// <param name="Nodes">Every registered node.</param>
internal sealed record ClusterView(string? LocalSiloId, IReadOnlyList<SiloView> Silos, IReadOnlyList<NodeView> Nodes)
{
    /// <summary>The gRPC endpoint's address (h2c unless TLS is configured); null (left out) when the gRPC port is off.</summary>
    public string? Grpc { get; init; }

    /// <summary>The gateway's libp2p multiaddr (<c>/ip4/…/tcp/…/p2p/…</c>) when its bridge is on (docs/p2p.md); else left out.</summary>
    public string? P2p { get; init; }
}

/// <summary>A silo row.</summary>
internal sealed record SiloView(string Id, string Address, string Status, DateTimeOffset Started, DateTimeOffset LastHeartbeat);

/// <summary>A node row.</summary>
internal sealed record NodeView(
    string Id,
    string SiloId,
    string Address,
    string Operator,
    string Status,
    int Cores,
    long MemoryBytes,
    long StorageBytes,
    bool Gpu,
    int Concurrency,
    decimal PricePerMillionFuel,
    decimal PricePerGbMonth,
    double Reputation,
    int RunningJobs,
    long UsedStorageBytes,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeat,
    string? Engine,
    string? EngineVersion,
    IReadOnlyList<string> EngineFeatures,
    bool Edge,
    bool Relayed,
    long CorruptShards);
