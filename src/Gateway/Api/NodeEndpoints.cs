using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>Operator controls for the nodes this silo hosts: <c>POST /api/nodes/{id}/stop</c> and <c>/start</c>.</summary>
internal static class NodeEndpoints
{
    public static void MapNodeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/nodes/{id}/stop", (string id, HttpContext context, LocalNodes nodes) => Switch(id, context, nodes, online: false)).WithName("StopNode")
            .WithSummary("Operator only. Stops a node of this silo as a crash would: no heartbeats, shards offline. Once the cluster sees it dead (after the death timeout) the scheduler gives it no new jobs.");
        app.MapPost("/api/nodes/{id}/start", (string id, HttpContext context, LocalNodes nodes) => Switch(id, context, nodes, online: true)).WithName("StartNode")
            .WithSummary("Operator only. Restarts a stopped node of this silo.");
    }

    private static IResult Switch(string id, HttpContext context, LocalNodes nodes, bool online)
    {
        if (Accounts.OperatorOnly(context, online ? "start nodes" : "stop nodes") is { } refused)
        {
            return refused;
        }

        if (nodes.Find(id) is not { } node)
        {
            return Problems.NotFound($"Node '{id}' is not hosted by this silo; send the request to the silo that hosts it.");
        }

        nodes.SetOnline(node, online);
        return Results.Ok(new { id = node.Id, online });
    }
}
