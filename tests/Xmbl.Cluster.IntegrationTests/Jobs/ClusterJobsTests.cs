using System.Text.Json.Nodes;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>Jobs across silo processes sharing one PostgreSQL database.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class ClusterJobsTests(PostgresFixture postgres) : IDisposable
{
    private static readonly string[] FastLiveness =
        [.. ClusterArgs.FastLiveness, .. ClusterArgs.FastDispatch, .. ClusterArgs.Secret("cluster-jobs-test-secret-0123456789")];

    private readonly TempDirectory _data = new("xmbl-cluster-jobs");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task Job_SubmittedToOneSilo_RunsOnEitherAndIsValidatedAcrossSilos()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("a", database);
        await using var b = await StartAsync("b", database);
        var hash = await JobsApi.UploadAsync(a, "hello.wasm");

        var id = await JobsApi.SubmitAsync(b, new JsonObject { ["module"] = hash, ["validators"] = 1 });
        var job = await JobsApi.WaitAsync(a, id);

        Assert.Equal("Settled", job.Text("status"));
        Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(b, id));
        // Two silos, one node each: executor and validator are necessarily on different silos.
        Assert.NotEqual(job.Text("executor"), Assert.Single(job.GetProperty("validatorNodes").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task SiloKilledDuringAJob_TheJobCompletesOnAnotherNode()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("a", database);
        await using var b = await StartAsync("b", database);

        // Long enough to be killed mid-run: fuel for seconds of work, a wall-time cap well above it.
        var (id, executor, victim, survivor) = await SubmitLoopAsync(a, b, 20_000_000_000, 20_000);

        await victim.KillAsync();
        Assert.Equal("Scheduled", (await survivor.GetJsonAsync($"/api/jobs/{id}")).Text("status"));
        var job = await JobsApi.WaitAsync(survivor, id, TimeSpan.FromSeconds(90));

        Assert.Equal("Settled", job.Text("status"));
        Assert.NotEqual(executor, job.Text("executor"));
        Assert.Equal("OutOfFuel", job.Text("outcome"));
        var assignments = job.GetProperty("assignments").EnumerateArray().ToList();
        Assert.Equal(["TimedOut", "Reported"], assignments.Select(x => x.Text("status")));
        Assert.Contains(job.GetProperty("transitions").EnumerateArray(), t => t.Text("reason")!.Contains("rescheduled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_ThroughAnotherSilo_StopsTheRunningExecution()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("a", database);
        await using var b = await StartAsync("b", database);

        // Without a cancellation reaching its silo the run would go on until its one-minute wall-time cap.
        var (id, executor, running, other) = await SubmitLoopAsync(a, b, 1_000_000_000_000, 60_000);
        Assert.True(await RunningJobsAsync(running, executor, n => n == 1, TimeSpan.FromSeconds(20)), "the run did not start");

        using var cancel = await other.Http.PostAsync($"/api/jobs/{id}/cancel", null);

        Assert.True(cancel.IsSuccessStatusCode);
        Assert.Equal("Cancelled", (await running.GetJsonAsync($"/api/jobs/{id}")).Text("status"));
        Assert.True(await RunningJobsAsync(running, executor, n => n == 0, TimeSpan.FromSeconds(20)), "the run went on after the cancellation");
    }

    [Fact]
    public async Task SimdJobs_InAClusterMixingEngines_RunAndValidateOnlyOnWasmtimeNodes()
    {
        var database = await postgres.CreateDatabaseAsync();
        string[] twoNodes = ["--Xmbl:Node:Count", "2"];
        await using var wasmtime = await StartAsync("w", database, [.. twoNodes, "--engine", "wasmtime"]);
        await using var managed = await StartAsync("m", database, [.. twoNodes, "--engine", "managed"]);
        var nodes = (await managed.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray()
            .ToDictionary(n => n.Text("id")!, n => (Silo: n.Text("siloId"), Features: n.GetProperty("engineFeatures").EnumerateArray().Select(f => f.GetString()).ToList()));
        Assert.Equal(4, nodes.Count);
        Assert.All(nodes.Values, n => Assert.Equal(n.Silo == "w" ? ["simd"] : [], n.Features));

        // A managed silo cannot validate a SIMD module, so it refuses the upload; a Wasmtime silo records the feature.
        using var refused = await managed.Http.PostAsync("/api/modules", new ByteArrayContent(JobsApi.Fixture("simd.wasm")));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        var hash = await JobsApi.UploadAsync(wasmtime, "simd.wasm");
        Assert.Equal("simd", Assert.Single((await managed.GetJsonAsync($"/api/modules/{hash}")).GetProperty("features").EnumerateArray()).GetString());

        // Submitted through the managed silo, whose own nodes are the nearer ones: every run still lands on Wasmtime.
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await JobsApi.SubmitAsync(managed, new JsonObject { ["module"] = hash, ["validators"] = 1 }));
        }

        foreach (var id in ids)
        {
            var job = await JobsApi.WaitAsync(managed, id);
            Assert.Equal("Settled", job.Text("status"));
            Assert.Equal("simd sum 524800\n", await JobsApi.OutputAsync(managed, id));
            var runNodes = job.GetProperty("assignments").EnumerateArray().Select(a => a.Text("nodeId")!).ToList();
            Assert.Equal(2, runNodes.Count);
            Assert.All(runNodes, node => Assert.Equal("w", nodes[node].Silo));
        }
    }

    /// <summary>Submits the infinite loop through <paramref name="a"/>; returns the job, its executor, the executor's silo and the other one.</summary>
    private static async Task<(string Id, string Executor, SiloProcess ExecutorSilo, SiloProcess Other)> SubmitLoopAsync(SiloProcess a, SiloProcess b, long fuel, int wallTimeMs)
    {
        var loop = await JobsApi.UploadAsync(a, "infinite_loop.wasm");
        var id = await JobsApi.SubmitAsync(a, new JsonObject
        {
            ["module"] = loop,
            ["validators"] = 0,
            ["limits"] = new JsonObject { ["fuel"] = fuel, ["wallTimeMs"] = wallTimeMs },
        });
        var executor = (await a.GetJsonAsync($"/api/jobs/{id}")).Text("executor");
        Assert.NotNull(executor);
        var siloId = (await a.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray().Single(n => n.Text("id") == executor).Text("siloId");
        return siloId == "a" ? (id, executor, a, b) : (id, executor, b, a);
    }

    /// <summary>Polls the node's heartbeat load until <paramref name="done"/> holds or the time is up.</summary>
    private static async Task<bool> RunningJobsAsync(SiloProcess silo, string nodeId, Func<int, bool> done, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            var node = (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray().Single(n => n.Text("id") == nodeId);
            if (done(node.GetProperty("runningJobs").GetInt32()))
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }

    private Task<SiloProcess> StartAsync(string siloId, string connectionString, string[]? extraArgs = null) =>
        SiloProcess.StartAsync(Path.Combine(_data.Path, siloId), [.. FastLiveness, "--postgres", connectionString, "--silo-id", siloId, .. extraArgs ?? []]);
}
