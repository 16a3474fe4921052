using System.Globalization;
using Grpc.Core;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Gateway.Grpc.V1;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary><c>xmbl.v1.Nodes</c>: the operator's controls, through the same <see cref="NodeControl"/> as <c>/api/nodes</c>.</summary>
internal sealed class NodesGrpcService(NodeControl control) : V1.Nodes.NodesBase
{
    public override async Task<V1.NodeDetails> GetNode(NodeRef request, ServerCallContext context) =>
        Details(await control.GetAsync(request.Id, context.CancellationToken));

    public override Task<NodeSwitch> StopNode(NodeRef request, ServerCallContext context) => SwitchAsync(request, context, online: false);

    public override Task<NodeSwitch> StartNode(NodeRef request, ServerCallContext context) => SwitchAsync(request, context, online: true);

    public override async Task<V1.NodeSettings> UpdateNodeSettings(UpdateNodeSettingsRequest request, ServerCallContext context)
    {
        var caller = GrpcSigning.CallerOf(context);
        control.RequireOperator(caller, "change nodes");
        var settings = NodeControl.CheckSettings(
            request.HasCores ? request.Cores : null,
            request.HasMemoryBytes ? request.MemoryBytes : null,
            request.HasConcurrency ? request.Concurrency : null,
            request.HasPricePerMillionFuel ? Price(request.PricePerMillionFuel) : null,
            request.HasPricePerGbMonth ? Price(request.PricePerGbMonth) : null);
        var (node, applied) = await control.UpdateSettingsAsync(caller, request.Id, settings, context.CancellationToken);
        return new V1.NodeSettings
        {
            Id = node.NodeId,
            Cores = node.Resources.Cores,
            MemoryBytes = node.Resources.MemoryBytes,
            Concurrency = node.Resources.Concurrency,
            PricePerMillionFuel = GrpcViews.Text(node.Prices.PerMillionFuel),
            PricePerGbMonth = GrpcViews.Text(node.Prices.PerGbMonth),
            Applied = applied,
        };
    }

    public override async Task<V1.NodeDetails> LeaveNode(NodeRef request, ServerCallContext context) =>
        Details(await control.LeaveAsync(GrpcSigning.CallerOf(context), request.Id, context.CancellationToken));

    private async Task<NodeSwitch> SwitchAsync(NodeRef request, ServerCallContext context, bool online)
    {
        var (id, now) = await control.SwitchAsync(GrpcSigning.CallerOf(context), request.Id, online, context.CancellationToken);
        return new NodeSwitch { Id = id, Online = now };
    }

    // Text that is no decimal goes on as -1, which the settings' rule refuses in its own words.
    private static decimal Price(string text) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) ? price : -1;

    private static V1.NodeDetails Details(Grains.Nodes.NodeStatus status)
    {
        var view = Api.NodeDetails.Of(status);
        var details = new V1.NodeDetails
        {
            Id = view.Id,
            SiloId = view.SiloId,
            Address = view.Address,
            Operator = view.Operator,
            Status = view.Status,
            RunningJobs = view.RunningJobs,
            UsedStorageBytes = view.UsedStorageBytes,
            RegisteredAt = GrpcViews.Time(view.RegisteredAt),
            LastHeartbeat = GrpcViews.Time(view.LastHeartbeat),
        };
        if (view.Leave is { } leave)
        {
            details.Leave = new V1.NodeLeave
            {
                Phase = leave.Phase,
                StartedAt = GrpcViews.Time(leave.StartedAt),
                FinishedAt = GrpcViews.Time(leave.FinishedAt),
                ShardsAtStart = leave.ShardsAtStart,
                ShardsMoved = leave.ShardsMoved,
                ShardsLeft = leave.ShardsLeft,
                RunningJobs = leave.RunningJobs,
                Reason = leave.Reason ?? "",
            };
        }

        return details;
    }
}

/// <summary><c>xmbl.v1.Storage</c>: the operator's repair pass, as <c>POST /api/storage/repair</c>.</summary>
internal sealed class StorageGrpcService(NodeControl control) : V1.Storage.StorageBase
{
    public override async Task<RepairResult> Repair(RepairRequest request, ServerCallContext context)
    {
        var pass = await control.RepairAsync(GrpcSigning.CallerOf(context), context.CancellationToken);
        return new RepairResult
        {
            CheckedObjects = pass.CheckedObjects,
            RepairedObjects = pass.RepairedObjects,
            RepairedShards = pass.RepairedShards,
            Unrecoverable = pass.Unrecoverable,
            OrphansDeleted = pass.OrphansDeleted,
            FinishedAt = GrpcViews.Time(pass.FinishedAt),
        };
    }
}
