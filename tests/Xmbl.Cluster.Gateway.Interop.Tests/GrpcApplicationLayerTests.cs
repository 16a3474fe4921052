using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Xmbl.Cluster.Gateway.Grpc.V1;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Identity.Requests;
using GrpcCluster = Xmbl.Cluster.Gateway.Grpc.V1.Cluster;
using GrpcLedger = Xmbl.Cluster.Gateway.Grpc.V1.Ledger;
using GrpcNodes = Xmbl.Cluster.Gateway.Grpc.V1.Nodes;
using GrpcStorage = Xmbl.Cluster.Gateway.Grpc.V1.Storage;

namespace Xmbl.Cluster.Gateway.Interop.Tests;

/// <summary>
/// One in-process silo with a configured operator and treasury, a private and a shared namespace and small pages: the operator's
/// controls, the ledger's mint and faucet, and the shared rules (owners, private reads, transfers, paging) over gRPC,
/// with signed calls (docs/api.md, "Signed gRPC calls") and, for each shared rule, the REST answer beside it.
/// </summary>
public sealed class GrpcApplicationLayerFixture : IAsyncLifetime
{
    public const int MaxPageSize = 20;

    public InProcessGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await InProcessGateway.StartAsync(
        "--Xmbl:Gateway:Operator", TestAccounts.Did("operator"),
        "--Xmbl:Ledger:Treasury", TestAccounts.Did(TestAccounts.Treasury),
        "--Xmbl:Gateway:MaxPageSize", MaxPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--Xmbl:Gateway:DefaultPageSize", "10",
        "--Xmbl:Storage:Policies:Namespaces:0:Namespace", "alice",
        "--Xmbl:Storage:Policies:Namespaces:0:AccessLevel", "MeshGlobal",
        "--Xmbl:Storage:Policies:Namespaces:0:OwnerAccount", TestAccounts.Did("alice"),
        "--Xmbl:Storage:Policies:Namespaces:1:Namespace", "shared",
        "--Xmbl:Storage:Policies:Namespaces:1:AccessLevel", "MeshGlobal",
        "--Xmbl:Storage:Policies:Namespaces:1:Grants:0:Account", "*",
        "--Xmbl:Storage:Policies:Namespaces:1:Grants:0:Operations", "All");

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

public sealed class GrpcApplicationLayerTests(GrpcApplicationLayerFixture fixture) : IClassFixture<GrpcApplicationLayerFixture>
{
    private InProcessGateway Gateway => fixture.Gateway;

    private GrpcNodes.NodesClient Nodes => new(Gateway.Channel);

    [Fact]
    public async Task StopAndStartNode_SignedByTheOperator_SwitchTheNodeAsRestDoes()
    {
        var id = await NodeIdAsync(2);
        var local = Gateway.Service<LocalNodes>();
        var node = local.Find(id)!;

        var stop = new NodeRef { Id = id };
        var stopped = await Nodes.StopNodeAsync(stop, Signed("operator", "/xmbl.v1.Nodes/StopNode", stop));
        Assert.Equal(new NodeSwitch { Id = id, Online = false }, stopped);
        Assert.False(local.IsOnline(node));

        var start = new NodeRef { Id = id };
        var started = await Nodes.StartNodeAsync(start, Signed("operator", "/xmbl.v1.Nodes/StartNode", start));
        Assert.True(started.Online);
        Assert.True(local.IsOnline(node));

        // REST answers from the same layer: the same switch, the same shape.
        using var rest = await Rest("operator").PostAsync(new Uri($"/api/nodes/{id}/start", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Equal($"{{\"id\":\"{id}\",\"online\":true}}", await rest.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OperatorCalls_SignedByAnotherAccount_ArePermissionDeniedNamingTheOperator_AsRestAnswers403()
    {
        var id = await NodeIdAsync(0);
        var node = new NodeRef { Id = id };
        var settings = new UpdateNodeSettingsRequest { Id = id, Cores = 2 };
        var repair = new RepairRequest();
        var calls = new (string Method, Func<Task> Call)[]
        {
            ("StopNode", () => Nodes.StopNodeAsync(node, Signed("bob", "/xmbl.v1.Nodes/StopNode", node)).ResponseAsync),
            ("StartNode", () => Nodes.StartNodeAsync(node, Signed("bob", "/xmbl.v1.Nodes/StartNode", node)).ResponseAsync),
            ("LeaveNode", () => Nodes.LeaveNodeAsync(node, Signed("bob", "/xmbl.v1.Nodes/LeaveNode", node)).ResponseAsync),
            ("UpdateNodeSettings", () => Nodes.UpdateNodeSettingsAsync(settings, Signed("bob", "/xmbl.v1.Nodes/UpdateNodeSettings", settings)).ResponseAsync),
            ("Repair", () => new GrpcStorage.StorageClient(Gateway.Channel).RepairAsync(repair, Signed("bob", "/xmbl.v1.Storage/Repair", repair)).ResponseAsync),
        };
        foreach (var (method, call) in calls)
        {
            var denied = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(denied.StatusCode == StatusCode.PermissionDenied, $"{method}: {denied.Status}");
            Assert.Contains(TestAccounts.Did("operator"), denied.Status.Detail, StringComparison.Ordinal);
            Assert.Contains(TestAccounts.Did("bob"), denied.Status.Detail, StringComparison.Ordinal);
        }

        using var rest = await Rest("bob").PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, rest.StatusCode);
        var repairDenied = await Assert.ThrowsAsync<RpcException>(calls[^1].Call);
        Assert.Equal(repairDenied.Status.Detail, await DetailAsync(rest));

        // Refused before anything ran: the node was never stopped.
        Assert.True(Gateway.Service<LocalNodes>().IsOnline(Gateway.Service<LocalNodes>().Find(id)!));
    }

    [Fact]
    public async Task GetCluster_ShowsEachNodeAsRestDoes_EngineFeaturesEdgeRelayedAndCorruptShards()
    {
        var grpc = await new GrpcCluster.ClusterClient(Gateway.Channel).GetClusterAsync(new GetClusterRequest());
        using var http = Gateway.Http();
        using var rest = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/cluster", UriKind.Relative)));

        var restNodes = rest.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!);
        Assert.Equal(restNodes.Count, grpc.Nodes.Count);
        Assert.Contains(grpc.Nodes, n => n.EngineFeatures.Contains("simd")); // Wasmtime nodes: the list is not just empty
        foreach (var node in grpc.Nodes)
        {
            var same = restNodes[node.Id];
            Assert.Equal(same.GetProperty("engineFeatures").EnumerateArray().Select(f => f.GetString()), node.EngineFeatures);
            Assert.Equal(same.GetProperty("edge").GetBoolean(), node.Edge);
            Assert.Equal(same.GetProperty("relayed").GetBoolean(), node.Relayed);
            Assert.Equal(same.GetProperty("corruptShards").GetInt64(), node.CorruptShards);
        }
    }

    [Fact]
    public async Task UpdateNodeSettings_ChangesTheNodeForRestAndGrpc_AndRefusesBadValuesNamingTheField()
    {
        var id = await NodeIdAsync(1);
        var change = new UpdateNodeSettingsRequest { Id = id, Cores = 3, PricePerGbMonth = "0.003" };
        var changed = await Nodes.UpdateNodeSettingsAsync(change, Signed("operator", "/xmbl.v1.Nodes/UpdateNodeSettings", change));
        Assert.Equal(3, changed.Cores);
        Assert.Equal("0.003", changed.PricePerGbMonth);
        Assert.True(changed.Applied);
        var cluster = await new GrpcCluster.ClusterClient(Gateway.Channel).GetClusterAsync(new GetClusterRequest());
        Assert.Equal(3, cluster.Nodes.Single(n => n.Id == id).Cores);

        foreach (var (bad, field) in new (UpdateNodeSettingsRequest, string)[]
        {
            (new() { Id = id, Cores = 0 }, "cores"),
            (new() { Id = id, Concurrency = 100_000 }, "concurrency"),
            (new() { Id = id, MemoryBytes = 1024 }, "memory_bytes"),
            (new() { Id = id, PricePerMillionFuel = "cheap" }, "price_per_million_fuel"),
            (new() { Id = id, PricePerGbMonth = "0.0000001" }, "price_per_gb_month"),
        })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => Nodes.UpdateNodeSettingsAsync(bad, Signed("operator", "/xmbl.v1.Nodes/UpdateNodeSettings", bad)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Equal(field, refused.Trailers.GetValue("xmbl-field"));
        }

        var nothing = new UpdateNodeSettingsRequest { Id = id };
        var empty = await Assert.ThrowsAsync<RpcException>(() => Nodes.UpdateNodeSettingsAsync(nothing, Signed("operator", "/xmbl.v1.Nodes/UpdateNodeSettings", nothing)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);

        // The same rule words the REST answer.
        using var rest = await Rest("operator").PatchAsync(new Uri($"/api/nodes/{id}", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, rest.StatusCode);
        Assert.Equal(empty.Status.Detail, await DetailAsync(rest));
        Assert.Equal(3, (await new GrpcCluster.ClusterClient(Gateway.Channel).GetClusterAsync(new GetClusterRequest())).Nodes.Single(n => n.Id == id).Cores);
    }

    [Fact]
    public async Task GetNode_ShowsTheNode_AndUnknownNodesAreNotFoundForEveryControl()
    {
        var id = await NodeIdAsync(0);
        var details = await Nodes.GetNodeAsync(new NodeRef { Id = id });
        Assert.Equal(id, details.Id);
        Assert.Equal("alive", details.Status);
        Assert.Null(details.Leave);

        var unknown = new NodeRef { Id = "did:key:z6MkNoSuchNode" };
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => Nodes.GetNodeAsync(unknown).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => Nodes.StopNodeAsync(unknown, Signed("operator", "/xmbl.v1.Nodes/StopNode", unknown)).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => Nodes.LeaveNodeAsync(unknown, Signed("operator", "/xmbl.v1.Nodes/LeaveNode", unknown)).ResponseAsync)).StatusCode);
        using var rest = await Gateway.Http().GetAsync(new Uri("/api/nodes/did:key:z6MkNoSuchNode", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, rest.StatusCode);
    }

    [Fact]
    public async Task Repair_SignedByTheOperator_RunsAPass()
    {
        var request = new RepairRequest();
        var pass = await new GrpcStorage.StorageClient(Gateway.Channel).RepairAsync(request, Signed("operator", "/xmbl.v1.Storage/Repair", request));
        Assert.NotNull(pass.FinishedAt);
        Assert.Equal(0, pass.Unrecoverable);
    }

    [Fact]
    public async Task MintAndFaucet_FollowTheLedgersRules_OverGrpc()
    {
        var ledger = new GrpcLedger.LedgerClient(Gateway.Channel);
        var mint = new MintRequest { Amount = 5_000_000, Nonce = 1 };
        var treasury = await ledger.MintAsync(mint, Signed(TestAccounts.Treasury, "/xmbl.v1.Ledger/Mint", mint));
        Assert.Equal(5_000_000, treasury.Balance);
        Assert.Equal(2, treasury.NextNonce);

        var byBob = new MintRequest { Amount = 5, Nonce = 1 };
        var denied = await Assert.ThrowsAsync<RpcException>(() => ledger.MintAsync(byBob, Signed("bob", "/xmbl.v1.Ledger/Mint", byBob)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("Only the treasury", denied.Status.Detail, StringComparison.Ordinal);

        var reused = new MintRequest { Amount = 5, Nonce = 1 };
        var nonce = await Assert.ThrowsAsync<RpcException>(() => ledger.MintAsync(reused, Signed(TestAccounts.Treasury, "/xmbl.v1.Ledger/Mint", reused)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, nonce.StatusCode);
        Assert.Equal("nonce-used", nonce.Trailers.GetValue("xmbl-reason"));

        var faucet = new FaucetRequest { Amount = 2_000_000 };
        var carol = await ledger.FaucetAsync(faucet, Signed("carol", "/xmbl.v1.Ledger/Faucet", faucet));
        Assert.Equal(TestAccounts.Did("carol"), carol.Id);
        Assert.Equal(2_000_000, carol.Balance);

        foreach (var amount in new[] { 0L, long.MaxValue })
        {
            var bad = new FaucetRequest { Amount = amount };
            var refused = await Assert.ThrowsAsync<RpcException>(() => ledger.FaucetAsync(bad, Signed("carol", "/xmbl.v1.Ledger/Faucet", bad)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Equal("amount", refused.Trailers.GetValue("xmbl-field"));
        }
    }

    [Fact]
    public async Task Transfer_ToItselfOrOfNothing_IsRefusedInTheSameWordsOverRestAndGrpc()
    {
        var ledger = new GrpcLedger.LedgerClient(Gateway.Channel);
        foreach (var (request, field) in new (TransferRequest, string)[]
        {
            (new() { To = TestAccounts.Did("dave"), Amount = 1, Nonce = 1 }, "to"),
            (new() { To = TestAccounts.Did("erin"), Amount = 0, Nonce = 1 }, "amount"),
            (new() { To = TestAccounts.Did("erin"), Amount = 1, Nonce = 0 }, "nonce"),
            (new() { To = "not-an-account", Amount = 1, Nonce = 1 }, "to"),
        })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => ledger.TransferAsync(request, Signed("dave", "/xmbl.v1.Ledger/Transfer", request)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Equal(field, refused.Trailers.GetValue("xmbl-field"));

            using var rest = await Rest("dave").PostAsJsonAsync(new Uri("/api/transfers", UriKind.Relative), new { to = request.To, amount = request.Amount, nonce = request.Nonce });
            Assert.Equal(HttpStatusCode.BadRequest, rest.StatusCode);
            Assert.Equal(refused.Status.Detail, await DetailAsync(rest));
        }
    }

    [Fact]
    public async Task PrivateObject_IsReadOnlyWithTheOwnersSignature_AndDeletedOnlyByItsOwner_OverRestAndGrpc()
    {
        using (var put = await Rest("alice").PutAsync(new Uri("/api/objects/alice/diary.txt", UriKind.Relative), new StringContent("dear diary", Encoding.UTF8, "text/plain")))
        {
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        }

        var objects = new Objects.ObjectsClient(Gateway.Channel);
        var address = new ObjectAddress { Namespace = "alice", Name = "diary.txt" };
        Assert.Equal(10, (await objects.HeadObjectAsync(address, Signed("alice", "/xmbl.v1.Objects/HeadObject", address))).Size);
        var refused = await Assert.ThrowsAsync<RpcException>(() => objects.HeadObjectAsync(address, Signed("bob", "/xmbl.v1.Objects/HeadObject", address)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        using (var rest = await Rest("bob").GetAsync(new Uri("/api/objects/alice/diary.txt", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, rest.StatusCode);
            Assert.Equal(refused.Status.Detail, await DetailAsync(rest));
        }

        // A shared namespace: bob reads alice's object but cannot delete it.
        using (var put = await Rest("alice").PutAsync(new Uri("/api/objects/shared/note.txt", UriKind.Relative), new StringContent("hello", Encoding.UTF8, "text/plain")))
        {
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        }

        var shared = new ObjectAddress { Namespace = "shared", Name = "note.txt" };
        var notOwner = await Assert.ThrowsAsync<RpcException>(() => objects.DeleteObjectAsync(shared, Signed("bob", "/xmbl.v1.Objects/DeleteObject", shared)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, notOwner.StatusCode);
        using (var rest = await Rest("bob").DeleteAsync(new Uri("/api/objects/shared/note.txt", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, rest.StatusCode);
            Assert.Equal(notOwner.Status.Detail, await DetailAsync(rest));
        }

        await objects.DeleteObjectAsync(shared, Signed("alice", "/xmbl.v1.Objects/DeleteObject", shared));
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => objects.HeadObjectAsync(shared).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task PageSizes_FollowTheGatewaysSettings_OverRestAndGrpc()
    {
        var jobs = new Jobs.JobsClient(Gateway.Channel);
        var tooMany = await Assert.ThrowsAsync<RpcException>(() => jobs.ListJobsAsync(new ListJobsRequest { PageSize = GrpcApplicationLayerFixture.MaxPageSize + 1 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);
        Assert.Equal("page_size", tooMany.Trailers.GetValue("xmbl-field"));
        Assert.Contains($"from 1 to {GrpcApplicationLayerFixture.MaxPageSize}", tooMany.Status.Detail, StringComparison.Ordinal);
        using var rest = await Gateway.Http().GetAsync(new Uri($"/api/jobs?limit={GrpcApplicationLayerFixture.MaxPageSize + 1}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, rest.StatusCode);
        Assert.Equal($"limit must be a whole number from 1 to {GrpcApplicationLayerFixture.MaxPageSize}.", await DetailAsync(rest));

        Assert.Empty((await jobs.ListJobsAsync(new ListJobsRequest { PageSize = GrpcApplicationLayerFixture.MaxPageSize })).NextPageToken);
        var objects = new Objects.ObjectsClient(Gateway.Channel);
        var history = new GrpcLedger.LedgerClient(Gateway.Channel);
        Assert.Equal("page_size", (await Assert.ThrowsAsync<RpcException>(() => objects.ListObjectsAsync(new ListObjectsRequest { Namespace = "shared", PageSize = -1 }).ResponseAsync)).Trailers.GetValue("xmbl-field"));
        Assert.Equal("page_size", (await Assert.ThrowsAsync<RpcException>(() => history.HistoryAsync(new HistoryRequest { Id = TestAccounts.Did("bob"), PageSize = 1000 }).ResponseAsync)).Trailers.GetValue("xmbl-field"));
    }

    private async Task<string> NodeIdAsync(int index) =>
        (await new GrpcCluster.ClusterClient(Gateway.Channel).GetClusterAsync(new GetClusterRequest())).Nodes.OrderBy(n => n.Id, StringComparer.Ordinal).ElementAt(index).Id;

    /// <summary>The signature metadata of a call with one request message (the scheme's REST code, method POST, the call's path).</summary>
    private static Metadata Signed(string account, string method, IMessage message)
    {
        var headers = new RequestSigner(TestAccounts.Key(account)).Sign("POST", method, RequestSigner.HashBody(message.ToByteArray()));
        return new Metadata
        {
            { RequestSignature.IdentityHeader, headers.Identity! },
            { RequestSignature.TimestampHeader, headers.Timestamp! },
            { RequestSignature.NonceHeader, headers.Nonce! },
            { RequestSignature.ContentSha256Header, headers.ContentSha256! },
            { RequestSignature.SignatureHeader, headers.Signature! },
        };
    }

    private HttpClient Rest(string account) =>
        new(new SigningHandler(new RequestSigner(TestAccounts.Key(account))) { InnerHandler = new HttpClientHandler() }) { BaseAddress = new Uri(Gateway.HttpUrl) };

    private static async Task<string?> DetailAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
}
