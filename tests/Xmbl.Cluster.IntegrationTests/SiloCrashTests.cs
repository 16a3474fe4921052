using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests;

/// <summary>Three silo processes on one PostgreSQL database; one is killed (SIGKILL) while jobs and objects flow through all three.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class SiloCrashTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private const string Secret = "silo-crash-test-secret-0123456789";

    private static readonly string[] Settings =
    [
        .. ClusterArgs.FastLiveness,
        .. ClusterArgs.FastDispatch,
        // Two nodes per silo: six nodes, so a stripe's 3 + 2 shards sit on five distinct nodes and one silo holds at
        // most two of them; the three left are enough to decode.
        "--nodes", "2",
    ];

    private readonly TempDirectory _data = new("xmbl-silo-crash");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task SiloKilledUnderLoad_EveryAcceptedJobEnds_AndEveryCommittedObjectReadsBackIdentical()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, Settings);
        var a = await cluster.StartSiloAsync("a");
        var b = await cluster.StartSiloAsync("b");
        var victim = await cluster.StartSiloAsync("c");
        SiloProcess[] silos = [a, b, victim];
        SiloProcess[] survivors = [a, b];
        var module = await JobsApi.UploadAsync(a, "hello.wasm");

        var jobs = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var objects = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var refused = new ConcurrentBag<string>();
        var survivorErrors = new ConcurrentBag<string>();
        var survivorSuccesses = new ConcurrentQueue<TimeSpan>();
        var clock = Stopwatch.StartNew();
        using var stopLoad = new CancellationTokenSource();
        var load = silos.SelectMany((silo, i) => new[]
        {
            Task.Run(() => ClusterLoad.SubmitJobsAsync(silo, i, module, jobs, refused, silo == victim ? null : survivorSuccesses, silo == victim ? null : survivorErrors, clock, stopLoad.Token)),
            Task.Run(() => ClusterLoad.PutObjectsAsync(silo, i, objects, refused, silo == victim ? null : survivorSuccesses, silo == victim ? null : survivorErrors, clock, stopLoad.Token)),
        }).ToArray();

        // Kill only once work was accepted everywhere, so that some of it lives on the victim.
        await UntilAsync(() => Task.FromResult(jobs.Count >= 15 && objects.Count >= 6), TimeSpan.FromSeconds(90));
        var beforeKill = (Jobs: jobs.Count, Objects: objects.Count);
        var killedAt = clock.Elapsed;
        await victim.KillAsync();
        var sinceKill = Stopwatch.StartNew();

        var declaredDead = await UntilAsync(async () => Status(await a.GetJsonAsync("/api/cluster"), "c") == "Dead", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(4));
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        // Every accepted job ends, read through the survivors (which activates the jobs that lived on the victim).
        var statuses = new Dictionary<string, int>(StringComparer.Ordinal);
        var n = 0;
        foreach (var (id, _) in jobs)
        {
            var job = await JobsApi.WaitAsync(survivors[n++ % 2], id, TimeSpan.FromSeconds(180));
            var status = job.Text("status")!;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status == "Settled", $"job {id} (submitted through {jobs[id]}) ended {status}: {job}");
        }

        var jobsFinal = sinceKill.Elapsed;

        // Every committed object reads back byte for byte, through either survivor.
        n = 0;
        foreach (var (name, bytes) in objects)
        {
            var read = await survivors[n++ % 2].Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative));
            Assert.True(bytes.AsSpan().SequenceEqual(read), $"object {name} ({bytes.Length} bytes) read back {read.Length} different bytes");
        }

        var objectsRead = sinceKill.Elapsed;
        var gap = LongestGapAfter(survivorSuccesses, killedAt);
        output.WriteLine($"before the kill: {beforeKill.Jobs} jobs, {beforeKill.Objects} objects accepted; in all {jobs.Count} jobs ({string.Join(", ", statuses.Select(s => $"{s.Value} {s.Key}"))}), {objects.Count} objects; {refused.Count} requests refused or cut off");
        output.WriteLine($"victim declared dead {declaredDead.TotalSeconds:F1} s after the kill; every job final {jobsFinal.TotalSeconds:F1} s after; every object read back {objectsRead.TotalSeconds:F1} s after; longest gap between successful requests on the survivors after the kill: {gap.TotalSeconds:F2} s");
        foreach (var reason in refused.GroupBy(r => r).OrderByDescending(g => g.Count()).Take(5))
        {
            output.WriteLine($"  {reason.Count()} x {reason.Key}");
        }

        foreach (var line in survivors.SelectMany(s => s.Output.Split('\n')).Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)).Take(30))
        {
            output.WriteLine(line);
        }

        // A live silo answers every request: done, or 503 (retry) when it was lost with the dead silo; never 4xx or 500.
        Assert.Empty(survivorErrors);
        Assert.True(jobs.Count > beforeKill.Jobs && objects.Count > beforeKill.Objects, "the survivors accepted no work after the kill");
    }

    [Fact]
    public async Task SiloKilledWhileAHundredJobsRun_EveryJobEndsSettled_WithTheValidatedOutput()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, Settings);
        var a = await cluster.StartSiloAsync("a");
        var b = await cluster.StartSiloAsync("b");
        var victim = await cluster.StartSiloAsync("c");
        SiloProcess[] silos = [a, b, victim];
        SiloProcess[] survivors = [a, b];
        var module = await JobsApi.UploadAsync(a, "spin.wasm");

        // 100 jobs of about a tenth of a second each, run twice (executor and validator): more work than the six
        // nodes finish before the kill, so the victim dies with runs, validations and job grains of its own.
        var jobs = new string[100];
        await Parallel.ForAsync(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (i, _) =>
            jobs[i] = await JobsApi.SubmitAsync(silos[i % 3], new JsonObject
            {
                ["module"] = module,
                ["validators"] = 1,
                ["args"] = new JsonArray("50000000"),
            }));
        var finalAtKill = (await a.GetJsonAsync("/api/jobs?limit=1000")).GetProperty("items").EnumerateArray()
            .Count(j => j.Text("status") is "Settled" or "Failed" or "Cancelled");
        await victim.KillAsync();
        var sinceKill = Stopwatch.StartNew();

        var n = 0;
        foreach (var id in jobs)
        {
            var job = await JobsApi.WaitAsync(survivors[n++ % 2], id, TimeSpan.FromSeconds(240));
            Assert.True(job.Text("status") == "Settled", $"job {id} ended {job.Text("status")}: {job}");
            Assert.Equal("spin 50000000: 1283106752\n", await JobsApi.OutputAsync(survivors[n % 2], id));
        }

        var allFinal = sinceKill.Elapsed;
        output.WriteLine($"figure: job completion after a kill: {jobs.Length - finalAtKill} of {jobs.Length} jobs not final at the kill; all settled (validated) {allFinal.TotalSeconds:F1} s after it");
        Assert.True(finalAtKill < jobs.Length, "every job was final before the kill; nothing was running");
    }

    /// <summary>The longest time without a successful request on the survivors, from the kill to the last success.</summary>
    private static TimeSpan LongestGapAfter(IEnumerable<TimeSpan> successes, TimeSpan killedAt)
    {
        var previous = killedAt;
        var longest = TimeSpan.Zero;
        foreach (var at in successes.Where(t => t >= killedAt).Order())
        {
            longest = at - previous > longest ? at - previous : longest;
            previous = at;
        }

        return longest;
    }

    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var started = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(started.Elapsed < within, $"not within {within}");
            await Task.Delay(100);
        }

        return started.Elapsed;
    }

    private static string? Status(JsonElement cluster, string siloId) =>
        cluster.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("id").GetString() == siloId).GetProperty("status").GetString();
}
