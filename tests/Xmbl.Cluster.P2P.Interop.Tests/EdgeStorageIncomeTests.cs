using System.Text.Json;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>
/// A js-libp2p edge node that holds shards is paid for them by the storage charges, as a silo node is (docs/ledger.md):
/// a silo process with charging on and the shortest period, the object written over REST by a funded account, the
/// shard held by the peer over <c>/xmbl/node/1.0.0</c>, and its account's history read back.
/// </summary>
[Trait("Suite", "Interop")]
[Collection(nameof(BridgeCollection))]
public sealed class EdgeStorageIncomeTests
{
    // Two stripes of 3 + 2 shards of 1 MiB, over the silo's two nodes and the edge node.
    private const int Size = (4 << 20) + 4321;

    [InteropFact]
    public async Task JsEdgeNode_HoldingShards_IsPaidStorageIncomeByTheObjectsOwner_WhenAChargingPeriodEnds()
    {
        using var data = new TempDirectory("xmbl-edge-income");
        // Embedded silos do not charge storage unless asked; one minute is the shortest period (a reminder ticks each minute).
        await using var silo = await SiloProcess.StartAsync(
            data.Path, "--nodes", "2", "--p2p-port", "0", "--Xmbl:Ledger:Storage:Enabled", "true", "--Xmbl:Ledger:Storage:Interval", "00:01:00");
        var address = (await silo.GetJsonAsync("/api/cluster")).GetProperty("p2p").GetString()!;
        await silo.FundAsync();
        await using var edge = await JsPeer.StartAsync();
        var nodeId = (await edge.CommandAsync("edgeStart", new { addr = address, storageBytes = 256L << 20, storagePrice = "100000" }))["welcome"]!["nodeId"]!.GetValue<string>();

        // Placement sees the new node after the node directory's next refresh (about a second).
        var stored = 0;
        while ((await edge.CommandAsync("edgeStatus"))["shards"]!.GetValue<int>() == 0)
        {
            Assert.True(stored < 20, "No object was placed on the edge node.");
            var body = new byte[Size];
            Random.Shared.NextBytes(body);
            using var put = await silo.Http.PutAsync(new Uri($"/api/objects/paid/object-{stored++}.bin", UriKind.Relative), new ByteArrayContent(body));
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            await Task.Delay(500);
        }

        var income = await WaitForIncomeAsync(silo, nodeId, TimeSpan.FromMinutes(4));
        var account = await silo.GetJsonAsync($"/api/accounts/{nodeId}");
        var paid = (await silo.GetJsonAsync($"/api/accounts/{SiloProcess.UserDid}/history?limit=1000")).GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "StoragePayment" && e.GetProperty("counterparty").GetString() == nodeId)
            .ToArray();
        await edge.CommandAsync("edgeStop");

        // A period may end between the reads: the owner pays before the payee is credited, and the balance only grows.
        Assert.NotEmpty(income);
        Assert.All(income, e =>
        {
            Assert.Equal(SiloProcess.UserDid, e.GetProperty("counterparty").GetString());
            Assert.True(e.GetProperty("amount").GetInt64() > 0);
            Assert.Contains(paid, p => p.GetProperty("transferId").GetString() == e.GetProperty("transferId").GetString() && p.GetProperty("amount").GetInt64() == -e.GetProperty("amount").GetInt64());
        });
        Assert.True(account.GetProperty("balance").GetInt64() >= income.Sum(e => e.GetProperty("amount").GetInt64()));
    }

    /// <summary>The edge node's <c>StorageIncome</c> entries, once there is one (the first period ends about a minute after the silo started).</summary>
    private static async Task<JsonElement[]> WaitForIncomeAsync(SiloProcess silo, string nodeId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var items = (await silo.GetJsonAsync($"/api/accounts/{nodeId}/history?limit=1000")).GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("kind").GetString() == "StorageIncome")
                .ToArray();
            if (items.Length > 0 || DateTime.UtcNow > deadline)
            {
                return items;
            }

            await Task.Delay(1000);
        }
    }
}
