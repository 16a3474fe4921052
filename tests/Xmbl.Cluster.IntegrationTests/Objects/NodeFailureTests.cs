using System.Net;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Objects;

[Trait("Suite", "Functional")]
public sealed class NodeFailureTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-node-failure");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task StoppedNode_IsSeenDead_ObjectStaysReadable_AndRepairRestoresAllShardsOnLiveNodes()
    {
        await using var silo = await SiloProcess.StartAsync(
            _data.Path,
            "--Xmbl:Storage:ShardSize", "65536",
            "--Xmbl:Storage:RepairPeriod", "00:00:00",
            "--Xmbl:Node:HeartbeatPeriod", "00:00:00.250",
            "--Xmbl:Node:DeathTimeout", "00:00:02");
        var data = new byte[700_000];
        new Random(5).NextBytes(data);
        using (var put = await silo.Http.PutAsync(new Uri("/api/objects/it/big", UriKind.Relative), new ByteArrayContent(data)))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var victim = (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes")[0].GetProperty("id").GetString()!;
        using (var stop = await silo.Operator.PostAsync(new Uri($"/api/nodes/{victim}/stop", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        }

        await WaitUntilDeadAsync(silo, victim);
        var readWhileDegraded = await silo.Http.GetByteArrayAsync(new Uri("/api/objects/it/big", UriKind.Relative));
        var before = await silo.GetJsonAsync("/api/objects/it/big?health");
        using var repair = await silo.Operator.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
        var after = await silo.GetJsonAsync("/api/objects/it/big?health");

        Assert.Equal(data, readWhileDegraded);
        Assert.False(before.GetProperty("fullyHealthy").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, repair.StatusCode);
        using (var pass = System.Text.Json.JsonDocument.Parse(await repair.Content.ReadAsStringAsync()))
        {
            // Every shard is young and named by the object: the pass reports that it reclaimed none.
            Assert.Equal(0, pass.RootElement.GetProperty("orphansDeleted").GetInt32());
        }

        Assert.True(after.GetProperty("fullyHealthy").GetBoolean(), after.ToString());
        Assert.Equal(after.GetProperty("totalShards").GetInt64(), after.GetProperty("healthyShards").GetInt64());
        Assert.Equal(data, await silo.Http.GetByteArrayAsync(new Uri("/api/objects/it/big", UriKind.Relative)));
    }

    private static async Task WaitUntilDeadAsync(SiloProcess silo, string nodeId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var nodes = (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray();
            if (nodes.Single(n => n.GetProperty("id").GetString() == nodeId).GetProperty("status").GetString() == "dead")
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Node {nodeId} was not seen dead.");
    }
}
