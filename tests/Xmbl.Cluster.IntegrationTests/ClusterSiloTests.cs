using System.Diagnostics;
using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests;

[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class ClusterSiloTests(PostgresFixture postgres) : IDisposable
{
    // Short limits so a dead silo is noticed within a few seconds.
    private static readonly string[] FastLiveness = [.. ClusterArgs.FastLiveness, .. ClusterArgs.Secret("integration-test-cluster-secret")];

    private readonly TempDirectory _data = new("xmbl-cluster");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task TwoSilos_OnOneEmptyDatabase_CreateTheSchemaAndSeeEachOther()
    {
        var database = await postgres.CreateDatabaseAsync();

        await using var a = await StartAsync("a", database);
        await using var b = await StartAsync("b", database);
        var cluster = await b.GetJsonAsync("/api/cluster");

        Assert.Equal(["a", "b"], Active(cluster));
        // Cluster mode: one node per silo.
        Assert.Equal(2, cluster.GetProperty("nodes").GetArrayLength());
    }

    [Fact]
    public async Task Object_WrittenThroughOneSilo_IsReadThroughAnother_OverSignedShardTransport()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("writer", database, "--nodes", "2");
        await using var b = await StartAsync("reader", database, "--nodes", "2");
        var data = new byte[3_000_000];
        new Random(17).NextBytes(data);

        using var put = await a.Http.PutAsync(new Uri("/api/objects/shared/file.bin", UriKind.Relative), new ByteArrayContent(data));
        var putBody = await put.Content.ReadAsStringAsync();
        var read = await b.Http.GetByteArrayAsync(new Uri("/api/objects/shared/file.bin", UriKind.Relative));
        using var stranger = await new HttpClient().GetAsync(new Uri(a.BaseAddress, "/internal/shards/x/y"));

        Assert.True(put.StatusCode == System.Net.HttpStatusCode.Created, putBody);
        Assert.Equal(data, read);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, stranger.StatusCode);
    }

    [Fact]
    public async Task UnsignedShardRequest_IsRejected_AndLoggedBySilo()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var silo = await StartAsync("guarded", database, "--nodes", "1");

        using var stranger = await new HttpClient().GetAsync(new Uri(silo.BaseAddress, "/internal/shards/x/y"));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, stranger.StatusCode);
        // Storage event 3010 (ShardRequestRejected), written by the silo's console logger.
        var deadline = Stopwatch.StartNew();
        while (!silo.Output.Contains("[3010]", StringComparison.Ordinal) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Contains("[3010]", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Rejected shard request GET /internal/shards/x/y", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KilledSilo_StopsHeartbeating_IsMarkedDeadWithinTheLimit()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var survivor = await StartAsync("survivor", database);
        await using var victim = await StartAsync("victim", database);

        await victim.KillAsync();
        var killedAt = Stopwatch.StartNew();
        JsonElement cluster;
        do
        {
            await Task.Delay(250);
            cluster = await survivor.GetJsonAsync("/api/cluster");
        }
        while ((Status(cluster, "victim") != "Dead" || NodeStatus(cluster, "victim") != "dead") && killedAt.Elapsed < TimeSpan.FromSeconds(30));

        // Orleans declares the silo dead after missed probes (1 s, twice); its node is dead once its last heartbeat is
        // older than the node death timeout (3 s). Both well within 10 s, with slack for a loaded 2-core machine.
        Assert.Equal("Dead", Status(cluster, "victim"));
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(10), $"marked dead after {killedAt.Elapsed}");
        var nodes = cluster.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal("dead", nodes.Single(n => n.GetProperty("siloId").GetString() == "victim").GetProperty("status").GetString());
        Assert.Equal("alive", nodes.Single(n => n.GetProperty("siloId").GetString() == "survivor").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Silo_ClusterModeWithoutSecret_RefusesToStartNamingTheKey()
    {
        var database = await postgres.CreateDatabaseAsync();

        await using var silo = SiloProcess.Launch(_data.Path, TcpPorts.Free(), "--postgres", database);
        await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, silo.ExitCode);
        Assert.Contains("Xmbl:Storage:Transport:ClusterSecret", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_DatabaseDown_FailsFastWithClearMessageAndNonZeroExit()
    {
        var closedPort = TcpPorts.Free();
        var connectionString = $"Host=127.0.0.1;Port={closedPort};Username=xmbl;Password=x;Database=xmbl;Timeout=3";
        var started = Stopwatch.StartNew();

        await using var silo = SiloProcess.Launch(_data.Path, TcpPorts.Free(), "--postgres", connectionString, "--Xmbl:Storage:Transport:ClusterSecret", "integration-test-cluster-secret");
        await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, silo.ExitCode);
        Assert.Contains("could not start", silo.Output, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL", silo.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Password=x", silo.Output, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(45), $"took {started.Elapsed}");
    }

    private static string? NodeStatus(JsonElement cluster, string siloId) =>
        cluster.GetProperty("nodes").EnumerateArray().FirstOrDefault(n => n.GetProperty("siloId").GetString() == siloId) is { ValueKind: JsonValueKind.Object } node
            ? node.GetProperty("status").GetString()
            : null;

    private Task<SiloProcess> StartAsync(string siloId, string connectionString, params string[] extra) =>
        SiloProcess.StartAsync(Path.Combine(_data.Path, siloId), [.. FastLiveness, "--postgres", connectionString, "--silo-id", siloId, .. extra]);

    private static string[] Active(JsonElement cluster) =>
        [.. cluster.GetProperty("silos").EnumerateArray()
            .Where(s => s.GetProperty("status").GetString() == "Active")
            .Select(s => s.GetProperty("id").GetString()!)
            .Order(StringComparer.Ordinal)];

    private static string? Status(JsonElement cluster, string siloId) =>
        cluster.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("id").GetString() == siloId).GetProperty("status").GetString();
}
