using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>
/// A JS edge node behind a standalone gateway (its own process, an Orleans client of a silo on PostgreSQL): its work
/// reaches it through its relay grain and the gateway's observer, and it is validated, reputed and paid as on a silo's
/// gateway (<see cref="BridgeTests"/>); the silo stores shards on it through the gateway's shard endpoints; a gateway
/// that dies leaves its nodes seen dead after the death timeout.
/// </summary>
[Trait("Suite", "Interop")]
[Collection(nameof(GatewayPostgresCollection))]
public sealed class GatewayEdgeTests(PostgresFixture postgres) : IDisposable
{
    private const string Secret = "gateway-edge-test-secret-0123456789";
    private static readonly byte[] EchoModule = BridgeTests.Fixture("echo.wasm");

    // Nodes heartbeat every 0.5 s and count as dead after 3 s, so a gateway's death shows within seconds.
    private static readonly string[] Liveness = ["--Xmbl:Node:HeartbeatPeriod", "00:00:00.500", "--Xmbl:Node:DeathTimeout", "00:00:03"];

    private readonly TempDirectory _data = new("xmbl-gateway-edge");

    public void Dispose() => _data.Dispose();

    [InteropFact]
    public async Task JsEdgeNode_OnAStandaloneGateway_GetsAnAssignmentThroughItsRelay_AgreesWithSiloNodes_GainsReputation_HoldsTheSilosShards_AndIsSeenDeadWhenTheGatewayDies()
    {
        var database = await postgres.CreateDatabaseAsync();
        string[] cluster = ["--Xmbl:Storage:Transport:ClusterSecret", Secret, "--postgres", database, .. Liveness];
        await using var silo = await SiloProcess.StartAsync(Path.Combine(_data.Path, "silo"), [.. cluster, "--silo-id", "a", "--nodes", "2"]);
        await using var gateway = await GatewayProcess.StartAsync(Path.Combine(_data.Path, "gateway"), [.. cluster, "--p2p-port", "0"]);
        var address = (await gateway.GetJsonAsync("/api/cluster")).GetProperty("p2p").GetString()!;

        await using var edge = await JsPeer.StartAsync();
        var welcome = (await edge.CommandAsync("edgeStart", new { addr = address, concurrency = 2, price = "0.5", storageBytes = 64L << 20 }))["welcome"]!;
        var nodeId = welcome["nodeId"]!.GetValue<string>();
        var listed = await NodeAsync(gateway, nodeId);
        var before = listed.GetProperty("reputation").GetDouble();

        // Two validators on a silo with two nodes: the third node of the job must be the edge node.
        await using var client = await JsPeer.StartAsync();
        await gateway.FundAsync(BridgeTests.Did(client));
        var stdin = Encoding.UTF8.GetBytes("run on the edge of a standalone gateway");
        // The price named: a job that names none holds at the highest price the silo's scheduler knows, which is re-read
        // every second and may not hold the new edge node (0.5, dearer than the silo's nodes) yet.
        var job = (await client.CommandAsync("jobSubmit", new { addr = address, moduleBase64 = Convert.ToBase64String(EchoModule), stdinBase64 = Convert.ToBase64String(stdin), validators = 2, maxPrice = "0.5" }, TimeSpan.FromSeconds(90)))["job"]!;
        var status = await edge.CommandAsync("edgeStatus");
        var id = job["id"]!.GetValue<string>();
        var rest = await silo.GetJsonAsync($"/api/jobs/{id}");
        var after = await BridgeTests.WaitAsync(async () => (await NodeAsync(silo, nodeId)).GetProperty("reputation").GetDouble(), r => r > before);

        Assert.True(listed.GetProperty("edge").GetBoolean());
        Assert.True(listed.GetProperty("relayed").GetBoolean());
        Assert.Equal("alive", listed.GetProperty("status").GetString());
        Assert.Equal(64L << 20, listed.GetProperty("storageBytes").GetInt64());
        BridgeTests.AssertEdgeRunAgreed(job, status, rest, stdin, nodeId);
        Assert.True(after > before, $"reputation {after} should exceed {before}");
        // Paid to its operator's account, its own did, by the job's settlement.
        var balance = await BridgeTests.WaitAsync(async () => (await silo.GetJsonAsync($"/api/accounts/{nodeId}")).GetProperty("balance").GetInt64(), b => b > 0);
        Assert.True(balance > 0, $"the edge node's account holds {balance}");

        // Shards: the silo writes and reads them on the edge node through the gateway's signed shard endpoints.
        var (name, data) = await PutUntilTheEdgeHoldsShardsAsync(silo, edge);
        var read = await silo.Http.GetByteArrayAsync(new Uri($"/api/objects/shared/{name}", UriKind.Relative));
        var health = await silo.GetJsonAsync($"/api/objects/shared/{name}?health");
        Assert.Equal(data, read);
        Assert.True(health.GetProperty("fullyHealthy").GetBoolean(), health.ToString());
        Assert.True((await edge.CommandAsync("edgeStatus"))["shardOps"]!["get"]!.GetValue<int>() > 0);
        // Members only: a request not signed with the cluster secret is refused before it reaches the edge node.
        using (var stranger = await gateway.Unsigned.GetAsync(new Uri($"/internal/shards/{nodeId}", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, stranger.StatusCode);
        }

        // A gateway that dies says nothing: its nodes stop heartbeating and are seen dead after the death timeout.
        var watch = Stopwatch.StartNew();
        await gateway.KillAsync();
        var dead = await BridgeTests.WaitAsync(async () => (await NodeAsync(silo, nodeId)).GetProperty("status").GetString(), s => s != "alive");
        Assert.NotEqual("alive", dead);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"seen dead after {watch.Elapsed}");
    }

    /// <summary>Stores objects through the silo until one has shards on the edge node (placement sees a new node after
    /// its next directory refresh); returns that object's name and bytes.</summary>
    private static async Task<(string Name, byte[] Data)> PutUntilTheEdgeHoldsShardsAsync(SiloProcess silo, JsPeer edge)
    {
        // Two stripes of 3 + 2 shards of 1 MiB, over the two silo nodes and the edge node.
        var data = new byte[(4 << 20) + 4321];
        new Random(31).NextBytes(data);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var name = $"edge-{attempt}.bin";
            using (var put = await silo.Http.PutAsync(new Uri($"/api/objects/shared/{name}", UriKind.Relative), new ByteArrayContent(data)))
            {
                Assert.True(put.IsSuccessStatusCode, $"{(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
            }

            if ((await edge.CommandAsync("edgeStatus"))["shards"]!.GetValue<int>() > 0)
            {
                return (name, data);
            }

            await Task.Delay(500);
        }

        throw new Xunit.Sdk.XunitException("No object was placed on the edge node.");
    }

    private static async Task<JsonElement> NodeAsync(SiloProcess process, string id) =>
        (await process.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);
}

/// <summary>The PostgreSQL server of the standalone-gateway tests.</summary>
[CollectionDefinition(nameof(GatewayPostgresCollection))]
public sealed class GatewayPostgresCollection : ICollectionFixture<PostgresFixture>;
