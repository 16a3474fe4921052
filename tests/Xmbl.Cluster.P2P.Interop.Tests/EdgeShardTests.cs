using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>
/// A js-libp2p edge node that announces storage holds shards over <c>/xmbl/node/1.0.0</c>, beside the silo's two
/// nodes: the same writer, reader and repair use it; its loss and its lies are a lost shard.
/// </summary>
[Trait("Suite", "Interop")]
[Collection(nameof(BridgeCollection))]
public sealed class EdgeShardTests(BridgeSiloFixture fixture)
{
    // Two stripes of 3 + 2 shards of 1 MiB, over the two silo nodes and the edge node.
    private const int Size = (4 << 20) + 4321;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    [InteropFact]
    public async Task JsEdgeNode_HoldsShards_TheObjectReadsBackByteIdentical_AndAfterItLeaves_ReadsSucceedAndRepairRestoresRedundancy()
    {
        await using var edge = await JsPeer.StartAsync();
        var nodeId = (await edge.CommandAsync("edgeStart", new { addr = fixture.Address, storageBytes = 256L << 20 }))["welcome"]!["nodeId"]!.GetValue<string>();
        var name = await PutUntilTheEdgeHoldsShardsAsync(edge, "edge/kept", seed: 21);
        var held = (await edge.CommandAsync("edgeStatus"))["shards"]!.GetValue<int>();

        var first = await GetAsync(edge, name, 21);
        var healthy = await HealthAsync(name);

        await edge.CommandAsync("edgeStop");
        await WaitAsync(async () => (await fixture.NodeAsync(nodeId)).GetProperty("status").GetString(), s => s != "alive");
        await using var reader = await JsPeer.StartAsync();
        var afterLoss = await GetAsync(reader, name, 21);
        var degraded = await HealthAsync(name);
        using var repair = await fixture.Silo.Operator.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
        var pass = await repair.Content.ReadFromJsonAsync<JsonElement>();
        var repaired = await HealthAsync(name);
        var afterRepair = await GetAsync(reader, name, 21);

        Assert.True(held > 0);
        Assert.True(first["matches"]!.GetValue<bool>());
        Assert.Equal(Size, first["received"]!.GetValue<long>());
        Assert.True(healthy.GetProperty("fullyHealthy").GetBoolean());
        Assert.True(afterLoss["matches"]!.GetValue<bool>());
        Assert.Equal(first["sha256"]!.GetValue<string>(), afterLoss["sha256"]!.GetValue<string>());
        Assert.False(degraded.GetProperty("fullyHealthy").GetBoolean());
        Assert.Equal(degraded.GetProperty("totalShards").GetInt64() - held, degraded.GetProperty("healthyShards").GetInt64());
        Assert.True(repair.IsSuccessStatusCode);
        Assert.True(pass.GetProperty("repairedShards").GetInt32() >= held);
        Assert.True(repaired.GetProperty("fullyHealthy").GetBoolean());
        Assert.True(afterRepair["matches"]!.GetValue<bool>());
    }

    [InteropFact]
    public async Task JsEdgeNode_SendingBackAlteredShards_IsCaughtByTheHash_TheShardsCountAsLost_ReadsStayByteIdentical_AndItLosesReputationOncePerShard()
    {
        await using var edge = await JsPeer.StartAsync();
        var nodeId = (await edge.CommandAsync("edgeStart", new { addr = fixture.Address, storageBytes = 256L << 20, alterShards = true }))["welcome"]!["nodeId"]!.GetValue<string>();
        var name = await PutUntilTheEdgeHoldsShardsAsync(edge, "edge/altered", seed: 22);
        var held = (await edge.CommandAsync("edgeStatus"))["shards"]!.GetValue<int>();

        var read = await GetAsync(edge, name, 22);
        var health = await HealthAsync(name);
        await GetAsync(edge, name, 22);
        var status = await edge.CommandAsync("edgeStatus");
        await edge.CommandAsync("edgeStop");

        // Two reads and a scrub met every altered shard; each costs the node one disagreement (× 0.7), once. The score
        // drifts back towards 0.5 by about 1 % of its distance in 10 s (half-life 10 min).
        var expected = 0.5 * Math.Pow(0.7, held);
        var reputation = await WaitAsync(async () => (await fixture.NodeAsync(nodeId)).GetProperty("reputation").GetDouble(), r => r <= expected + 0.01);
        Assert.InRange(reputation, expected - 1e-9, expected + 0.01);
        Assert.Equal(held, (await fixture.NodeAsync(nodeId)).GetProperty("corruptShards").GetInt64());

        Assert.True(read["matches"]!.GetValue<bool>());
        Assert.Equal(Size, read["received"]!.GetValue<long>());
        // The scrub behind ?health fetched every shard: the edge node's all failed their hash.
        Assert.True(status["shardOps"]!["get"]!.GetValue<int>() >= held);
        Assert.Equal(health.GetProperty("totalShards").GetInt64() - held, health.GetProperty("healthyShards").GetInt64());
        Assert.True(health.GetProperty("readable").GetBoolean());
        Assert.Contains("sent back shard", fixture.Silo.Output, StringComparison.Ordinal);
    }

    /// <summary>Stores objects until one has shards on the edge node (placement sees a new node after its next
    /// directory refresh, about a second); returns that object's name.</summary>
    private async Task<string> PutUntilTheEdgeHoldsShardsAsync(JsPeer edge, string prefix, int seed)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var name = $"{prefix}-{attempt}.bin";
            var put = await edge.CommandAsync("objectPut", new { addr = fixture.Address, @namespace = "p2p", name, bytes = Size, seed }, Long);
            Assert.Null(put["error"]);
            if ((await edge.CommandAsync("edgeStatus"))["shards"]!.GetValue<int>() > 0)
            {
                return name;
            }

            await Task.Delay(500);
        }

        throw new Xunit.Sdk.XunitException("No object was placed on the edge node.");
    }

    private Task<JsonObject> GetAsync(JsPeer peer, string name, int seed) =>
        peer.CommandAsync("objectGet", new { addr = fixture.Address, @namespace = "p2p", name, seed }, Long);

    private Task<JsonElement> HealthAsync(string name) => fixture.Silo.GetJsonAsync($"/api/objects/p2p/{name}?health");

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(100);
        }
    }
}
