using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests.Objects;

/// <summary>Five storage silos on PostgreSQL, two killed at once (SIGKILL): the 3 + 2 code's worst case.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class StorageSiloFailureTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    /// <summary>Megabytes stored before the kill; bench/reliability/run.sh raises it for the redundancy figure.</summary>
    private static readonly int StoredMegabytes =
        int.TryParse(Environment.GetEnvironmentVariable("XMBL_RELIABILITY_STORED_MB"), NumberStyles.None, CultureInfo.InvariantCulture, out var mb) && mb > 0 ? mb : 8;

    private const string Secret = "storage-failure-test-secret-0123456789";

    private static readonly string[] Settings =
    [
        .. ClusterArgs.FastLiveness,
        "--Xmbl:Storage:ShardSize", "262144",
        "--nodes", "1",
    ];

    private readonly TempDirectory _data = new("xmbl-storage-failure");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task TwoOfFiveStorageSilosKilled_EveryObjectReadsBackIdentical_AndRepairRestoresFullRedundancyOnTheSurvivors()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, Settings);
        var silos = await cluster.StartSilosAsync("s1", "s2", "s3", "s4", "s5");
        var (a, b) = (silos[0], silos[1]);
        var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var random = new Random(7);
        var total = (long)StoredMegabytes << 20;
        for (var stored = 0L; stored < total;)
        {
            var data = new byte[(int)Math.Min(total - stored, random.Next(1, 4 << 20))];
            random.NextBytes(data);
            var name = $"survive/object-{objects.Count}.bin";
            using var put = await a.Http.PutAsync(new Uri($"/api/objects/{name}", UriKind.Relative), new ByteArrayContent(data));
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
            objects[name] = data;
            stored += data.Length;
        }

        await silos[3].KillAsync();
        await silos[4].KillAsync();
        var sinceKill = Stopwatch.StartNew();

        // At once, before anyone noticed: every object decodes from the three shards left of each stripe.
        foreach (var (name, bytes) in objects)
        {
            Assert.Equal(bytes, await b.Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
        }

        var readBack = sinceKill.Elapsed;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Dead(await a.GetJsonAsync("/api/cluster"), "s4", "s5"))
        {
            Assert.True(DateTime.UtcNow < deadline, "s4 and s5 were not declared dead (silos and nodes) within 60 s");
            await Task.Delay(200);
        }

        var declaredDead = sinceKill.Elapsed;
        // A pass over many megabytes can outlast the default 30 s client timeout.
        using var operatorClient = a.SigningClient(a.OperatorKey);
        operatorClient.Timeout = TimeSpan.FromMinutes(10);
        using var repair = await operatorClient.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
        var pass = JsonDocument.Parse(await repair.Content.ReadAsStringAsync()).RootElement;
        var repaired = sinceKill.Elapsed;

        Assert.Equal(HttpStatusCode.OK, repair.StatusCode);
        Assert.Equal(0, pass.GetProperty("unrecoverable").GetInt32());
        foreach (var (name, bytes) in objects)
        {
            var health = await a.GetJsonAsync($"/api/objects/{name}?health");
            Assert.True(health.GetProperty("fullyHealthy").GetBoolean(), $"{name}: {health}");
            Assert.Equal(bytes, await silos[2].Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
        }

        output.WriteLine($"figure: dead silo detected: s4 and s5 (silos and nodes) declared dead {declaredDead.TotalSeconds:F1} s after SIGKILL");
        output.WriteLine($"figure: full redundancy after losing two of five nodes: {objects.Count} objects, {StoredMegabytes} MiB ({pass.GetProperty("repairedShards").GetInt32()} shards rebuilt, about {StoredMegabytes * 2 / 5} MiB of them) fully redundant again {repaired.TotalSeconds:F1} s after the kill (repair pass {(repaired - declaredDead).TotalSeconds:F1} s); every object read back {readBack.TotalSeconds:F1} s after it");
    }

    private static bool Dead(JsonElement cluster, params string[] siloIds) =>
        siloIds.All(id =>
            cluster.GetProperty("silos").EnumerateArray().Single(s => s.Text("id") == id).Text("status") == "Dead"
            && cluster.GetProperty("nodes").EnumerateArray().Single(n => n.Text("siloId") == id).Text("status") == "dead");
}
