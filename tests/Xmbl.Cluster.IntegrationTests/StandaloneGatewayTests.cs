using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests;

/// <summary>The gateway as its own process: an Orleans client of silos on PostgreSQL, serving the same REST API.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class StandaloneGatewayTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private const string Secret = "standalone-gateway-test-secret-0123456789";

    // Short limits so a dead silo, and its nodes, are noticed within a few seconds.
    private static readonly string[] SiloSettings = [.. ClusterArgs.FastLiveness, .. ClusterArgs.FastDispatch, "--nodes", "2"];

    private readonly TempDirectory _data = new("xmbl-gateway");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task StandaloneGateway_ServesJobsObjectsAndDashboard_AndKeepsServingAfterASiloIsKilled()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, SiloSettings);
        var a = await cluster.StartSiloAsync("a");
        var b = await cluster.StartSiloAsync("b");
        var c = await cluster.StartSiloAsync("c");
        var gateway = await cluster.StartGatewayAsync();

        // Jobs: upload, submit, watch to the end (what `xmbl run --wait` does), read the output, find it in the listing.
        var hash = await JobsApi.UploadAsync(gateway, "hello.wasm");
        var first = await JobsApi.SubmitAsync(gateway, new JsonObject { ["module"] = hash, ["validators"] = 1 });
        var events = await gateway.Http.GetStringAsync(new Uri($"/api/jobs/{first}/events", UriKind.Relative));
        var listed = await gateway.GetJsonAsync("/api/jobs?limit=1000");

        Assert.Contains("event: final", events, StringComparison.Ordinal);
        Assert.Equal("Settled", (await gateway.GetJsonAsync($"/api/jobs/{first}")).Text("status"));
        Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(gateway, first));
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), j => j.Text("id") == first);

        // Objects: erasure-coded by the gateway, shards sent to the silos' nodes, read back byte-identical.
        var data = new byte[3_000_000];
        new Random(23).NextBytes(data);
        using (var put = await gateway.Http.PutAsync(new Uri("/api/objects/shared/through-gateway.bin", UriKind.Relative), new ByteArrayContent(data)))
        {
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        }

        Assert.Equal(data, await gateway.Http.GetByteArrayAsync(new Uri("/api/objects/shared/through-gateway.bin", UriKind.Relative)));
        Assert.Equal(data, await a.Http.GetByteArrayAsync(new Uri("/api/objects/shared/through-gateway.bin", UriKind.Relative)));
        Assert.Contains((await gateway.GetJsonAsync("/api/objects/shared")).GetProperty("items").EnumerateArray(), o => o.Text("name") == "through-gateway.bin");

        // The dashboard and the cluster view; a gateway is no silo, so it names none as its own.
        using (var dashboard = await gateway.Unsigned.GetAsync(new Uri("/dashboard", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            Assert.Equal("text/html", dashboard.Content.Headers.ContentType?.MediaType);
        }

        var view = await gateway.GetJsonAsync("/api/cluster");
        Assert.False(view.TryGetProperty("localSiloId", out _));
        Assert.Equal(["a", "b", "c"], ActiveSilos(view));

        await b.KillAsync();

        // At once: the object is still read (from the surviving shards), the gateway still healthy.
        using (var read = await gateway.Http.GetAsync(new Uri("/api/objects/shared/through-gateway.bin", UriKind.Relative)))
        {
            Assert.True(read.IsSuccessStatusCode, $"{(int)read.StatusCode}: {gateway.Output}");
            Assert.Equal(data, await read.Content.ReadAsByteArrayAsync());
        }

        using (var health = await gateway.Unsigned.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Once the cluster has declared the silo dead: new jobs are still scheduled and validated, through the same gateway.
        await WaitAsync(async () => ActiveSilos(await gateway.GetJsonAsync("/api/cluster")).SequenceEqual(["a", "c"]), "silo b was not declared dead");
        var second = await JobsApi.SubmitAsync(gateway, new JsonObject { ["module"] = hash, ["validators"] = 1 });
        var job = await JobsApi.WaitAsync(gateway, second, TimeSpan.FromSeconds(90));

        Assert.Equal("Settled", job.Text("status"));
        Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(gateway, second));
        Assert.Equal(data, await gateway.Http.GetByteArrayAsync(new Uri("/api/objects/shared/through-gateway.bin", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.OK, (await gateway.Unsigned.GetAsync(new Uri("/dashboard", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task GatewayKilledAndRestartedUnderLoad_EveryRequestItAccepted_IsDurable()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, SiloSettings);
        var a = await cluster.StartSiloAsync("a");
        var b = await cluster.StartSiloAsync("b");
        var c = await cluster.StartSiloAsync("c");
        var port = TcpPorts.Free();
        var first = cluster.LaunchGateway(port);
        await first.WaitHealthyAsync();
        var module = await JobsApi.UploadAsync(first, "hello.wasm");
        var jobs = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var objects = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var refused = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();

        // Load through the first gateway, killed (SIGKILL) in the middle of it: requests in flight are cut off.
        using (var stop = new CancellationTokenSource())
        {
            var load = Load(first, 0, module, jobs, objects, refused, clock, stop.Token);
            await WaitAsync(() => Task.FromResult(jobs.Count >= 15 && objects.Count >= 8), "the first gateway accepted too little");
            await first.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        var acceptedByFirst = (Jobs: jobs.Count, Objects: objects.Count);
        var killedAt = clock.Elapsed;
        await first.DisposeAsync();

        // The same gateway again, on the same port and data, takes the load over.
        var second = cluster.LaunchGateway(port);
        await second.WaitHealthyAsync();
        var healthyAgain = clock.Elapsed - killedAt;
        using (var stop = new CancellationTokenSource())
        {
            var load = Load(second, 1, module, jobs, objects, refused, clock, stop.Token);
            await WaitAsync(() => Task.FromResult(jobs.Count >= acceptedByFirst.Jobs + 10 && objects.Count >= acceptedByFirst.Objects + 5), "the restarted gateway accepted too little");
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        // Accepted (a 2xx answer) means durable: every job ends settled, every object reads back, through the new gateway.
        foreach (var (id, _) in jobs)
        {
            var job = await JobsApi.WaitAsync(second, id, TimeSpan.FromSeconds(120));
            Assert.True(job.Text("status") == "Settled", $"job {id} ended {job.Text("status")}: {job}");
        }

        foreach (var (name, bytes) in objects)
        {
            Assert.Equal(bytes, await second.Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
        }

        Assert.Equal(HttpStatusCode.OK, (await b.Unsigned.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        output.WriteLine($"figure: gateway restart: {acceptedByFirst.Jobs} jobs and {acceptedByFirst.Objects} objects accepted before the kill, all durable; the new gateway healthy {healthyAgain.TotalSeconds:F1} s after the kill; {refused.Count} requests cut off or refused");
    }

    private static Task[] Load(SiloProcess gateway, int index, string module, ConcurrentDictionary<string, string> jobs, ConcurrentDictionary<string, byte[]> objects, ConcurrentBag<string> refused, Stopwatch clock, CancellationToken stop) =>
    [
        Task.Run(() => ClusterLoad.SubmitJobsAsync(gateway, index, module, jobs, refused, successes: null, errors: null, clock, stop), CancellationToken.None),
        Task.Run(() => ClusterLoad.PutObjectsAsync(gateway, index, objects, refused, successes: null, errors: null, clock, stop), CancellationToken.None),
    ];

    [Fact]
    public async Task NodeStop_ThroughStandaloneGateway_StopsTheNodeOnItsSilo()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, SiloSettings);
        var silo = await cluster.StartSiloAsync("host");
        var gateway = await cluster.StartGatewayAsync();
        var node = (await gateway.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray().First().Text("id")!;

        using var user = await gateway.Http.PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var stop = await gateway.Operator.PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var unknown = await gateway.Operator.PostAsync(new Uri("/api/nodes/no-such-node/stop", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        // The node stops heartbeating on its silo: the cluster sees it dead after the death timeout.
        await WaitAsync(async () => NodeStatus(await silo.GetJsonAsync("/api/cluster"), node) == "dead", "the node did not stop");

        using var start = await gateway.Operator.PostAsync(new Uri($"/api/nodes/{node}/start", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        await WaitAsync(async () => NodeStatus(await silo.GetJsonAsync("/api/cluster"), node) == "alive", "the node did not start again");
    }

    [Fact]
    public async Task JobLargerThanEveryNode_ThroughStandaloneGateway_Answers400NamingTheMemory()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, SiloSettings);
        var silo = await cluster.StartSiloAsync("small", "--memory", "256MiB");
        var gateway = await cluster.StartGatewayAsync();
        var hello = await JobsApi.UploadAsync(gateway, "hello.wasm");

        // The gateway has no scheduler: it reads the largest node's memory from the node registry.
        using var response = await gateway.Http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), new JsonObject
        {
            ["module"] = hello,
            ["validators"] = 0,
            ["limits"] = new JsonObject { ["memoryPages"] = 4096 },
        });

        var problem = await SubmissionValidationTests.ProblemAsync(response, HttpStatusCode.BadRequest);
        var message = Assert.Single(problem.GetProperty("errors").GetProperty("limits.memoryPages").EnumerateArray()).GetString();
        Assert.Contains("the largest node announces 128 MiB", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_OfAStandaloneGateway_Reports503_WhileNoSiloAnswers()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, SiloSettings);
        var silo = await cluster.StartSiloAsync("only");
        var gateway = await cluster.StartGatewayAsync();

        await silo.KillAsync();
        await silo.DisposeAsync();

        await WaitAsync(async () => await HealthAsync(gateway) == HttpStatusCode.ServiceUnavailable, "the gateway still reports healthy with no silo");
        using var health = await gateway.Unsigned.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Contains("not connected to the cluster", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_WithNoSiloInTheCluster_ExitsWithCode3()
    {
        // A database on which no silo ever ran: no schema, no membership, nothing to connect to.
        var database = await postgres.CreateDatabaseAsync();
        await using var gateway = GatewayProcess.Launch(Path.Combine(_data.Path, "gateway"), TcpPorts.Free(), "--postgres", database, "--cluster-secret", Secret);
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, gateway.ExitCode);
        Assert.Contains("xmbl gateway: could not start", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_WithoutPostgres_ExitsWithCode2_NamingTheKey()
    {
        await using var gateway = GatewayProcess.Launch(Path.Combine(_data.Path, "gateway"), TcpPorts.Free(), "--cluster-secret", Secret);
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, gateway.ExitCode);
        Assert.Contains("Xmbl:Persistence:ConnectionString (--postgres) is required", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_WithoutClusterSecret_ExitsWithCode2_NamingTheKey()
    {
        // Refused before any connection is tried: this database does not exist.
        await using var gateway = GatewayProcess.Launch(Path.Combine(_data.Path, "gateway"), TcpPorts.Free(), "--postgres", "Host=127.0.0.1;Port=1;Database=none;Username=none");
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, gateway.ExitCode);
        Assert.Contains("Xmbl:Storage:Transport:ClusterSecret is empty", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_WithASiloOnlySwitch_ExitsWithCode2()
    {
        await using var gateway = GatewayProcess.Launch(Path.Combine(_data.Path, "gateway"), TcpPorts.Free(), "--postgres", "Host=127.0.0.1", "--nodes", "3");
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, gateway.ExitCode);
        Assert.Contains("--nodes is a silo option", gateway.Output, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> HealthAsync(SiloProcess process)
    {
        using var response = await process.Unsigned.GetAsync(new Uri("/healthz", UriKind.Relative));
        return response.StatusCode;
    }

    private static string[] ActiveSilos(JsonElement cluster) =>
        [.. cluster.GetProperty("silos").EnumerateArray().Where(s => s.Text("status") == "Active").Select(s => s.Text("id")!).Order(StringComparer.Ordinal)];

    private static string? NodeStatus(JsonElement cluster, string node) =>
        cluster.GetProperty("nodes").EnumerateArray().Single(n => n.Text("id") == node).Text("status");

    private static async Task WaitAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(200);
        }
    }
}
