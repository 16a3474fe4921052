using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests;

/// <summary>
/// PostgreSQL restarted under load (the collection's tests run one at a time, so no other test sees it go away):
/// silos and a standalone gateway reconnect on their own, and nothing accepted is lost.
/// </summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class DatabaseRestartTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private const string Secret = "database-restart-test-secret-0123456789";
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(5);

    private static readonly string[] Settings = [.. ClusterArgs.FastLiveness, .. ClusterArgs.FastDispatch, .. ClusterArgs.Secret(Secret), "--nodes", "2"];

    private readonly TempDirectory _data = new("xmbl-db-restart");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task DatabaseRestartedUnderLoad_SilosAndGatewayCarryOn_AndNoAcceptedJobOrObjectIsLost()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("a", database);
        await using var b = await StartAsync("b", database);
        await using var c = await StartAsync("c", database);
        await using var gateway = await GatewayProcess.StartAsync(Path.Combine(_data.Path, "gateway"), "--postgres", database, "--cluster-secret", Secret, "--Xmbl:Node:DeathTimeout", "00:00:03");
        SiloProcess[] fronts = [gateway, a];
        var module = await JobsApi.UploadAsync(gateway, "hello.wasm");

        var jobs = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var objects = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        var refused = new ConcurrentBag<string>();
        var successes = new ConcurrentQueue<TimeSpan>();
        var clock = Stopwatch.StartNew();
        using var stopLoad = new CancellationTokenSource();
        var load = fronts.SelectMany((front, i) => new[]
        {
            Task.Run(() => ClusterLoad.SubmitJobsAsync(front, i, module, jobs, refused, successes, errors: null, clock, stopLoad.Token)),
            Task.Run(() => ClusterLoad.PutObjectsAsync(front, i, objects, refused, successes, errors: null, clock, stopLoad.Token)),
        }).ToArray();

        await Until(() => jobs.Count >= 10 && objects.Count >= 5, TimeSpan.FromSeconds(60), "no load was accepted before the restart");
        var before = (Jobs: jobs.Count, Objects: objects.Count);
        var restartedAt = clock.Elapsed;
        await postgres.Server.RestartAsync(Downtime);
        var upAgainAt = clock.Elapsed;

        // Carrying on: work is accepted again through the gateway and through a silo, without restarting anything.
        await Until(() => successes.Count(t => t > upAgainAt) >= 20, TimeSpan.FromSeconds(90), "no request succeeded after the database came back");
        var recovered = successes.Where(t => t > upAgainAt).Min() - upAgainAt;
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        foreach (var process in (SiloProcess[])[a, b, c, gateway])
        {
            Assert.False(process.HasExited, $"a process exited:\n{process.Output}");
            using var health = await process.Unsigned.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Accepted means durable: every job answered 201 ends settled, every object answered 201 reads back identical.
        foreach (var (id, _) in jobs)
        {
            JsonElement job;
            try
            {
                job = await JobsApi.WaitAsync(gateway, id, TimeSpan.FromSeconds(120));
            }
            catch (Exception ex) when (ex is Xunit.Sdk.XunitException)
            {
                // What the processes logged about this job, and their warnings: what a stuck job needs to be understood.
                var logged = ((SiloProcess[])[a, b, c, gateway]).SelectMany((p, i) => Notable(p.Output, id).Select(l => $"[{"abcg"[i]}] {l}"));
                throw new Xunit.Sdk.XunitException($"{ex.Message}\n{string.Join('\n', logged.TakeLast(300))}");
            }

            Assert.True(job.Text("status") == "Settled", $"job {id} ended {job.Text("status")}: {job}");
        }

        foreach (var (name, bytes) in objects)
        {
            Assert.Equal(bytes, await b.Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
        }

        var gap = Gap(successes, restartedAt);
        output.WriteLine($"figure: database restart ({Downtime.TotalSeconds:F0} s down, fast shutdown): first success {recovered.TotalSeconds:F1} s after it was back; longest gap without a successful request {gap.TotalSeconds:F1} s; {jobs.Count - before.Jobs} jobs and {objects.Count - before.Objects} objects accepted after it, {refused.Count} requests refused in all");
        foreach (var reason in refused.GroupBy(r => r.Length > 90 ? r[..90] : r).OrderByDescending(g => g.Count()).Take(6))
        {
            output.WriteLine($"  {reason.Count()} x {reason.Key}");
        }

        // While the database is away a request is refused with 503 and Retry-After (retry), never a 500.
        var notUnavailable = refused.Where(r => !r.Contains(" 503: ", StringComparison.Ordinal)).ToArray();
        foreach (var line in fronts.SelectMany(f => f.Output.Split('\n')).Where(l => l.Contains("Exception", StringComparison.Ordinal)).Take(notUnavailable.Length == 0 ? 0 : 20))
        {
            output.WriteLine(line);
        }

        Assert.True(notUnavailable.Length == 0, string.Join("\n", notUnavailable.Take(5)));
    }

    /// <summary>The lines of a process's console log that mention <paramref name="id"/>, and its warnings and errors (category line and message).</summary>
    private static IEnumerable<string> Notable(string output, string id)
    {
        var lines = output.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("warn", StringComparison.Ordinal) || lines[i].StartsWith("fail", StringComparison.Ordinal) || lines[i].StartsWith("crit", StringComparison.Ordinal))
            {
                yield return lines[i] + (i + 1 < lines.Length ? " " + lines[i + 1].Trim() : "");
            }
            else if (lines[i].Contains(id, StringComparison.Ordinal))
            {
                yield return lines[i];
            }
        }
    }

    private static TimeSpan Gap(IEnumerable<TimeSpan> successes, TimeSpan from)
    {
        var previous = from;
        var longest = TimeSpan.Zero;
        foreach (var at in successes.Where(t => t >= from).Order())
        {
            longest = at - previous > longest ? at - previous : longest;
            previous = at;
        }

        return longest;
    }

    private static async Task Until(Func<bool> condition, TimeSpan within, string failure)
    {
        var started = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(started.Elapsed < within, failure);
            await Task.Delay(100);
        }
    }

    private Task<SiloProcess> StartAsync(string siloId, string database) =>
        SiloProcess.StartAsync(Path.Combine(_data.Path, siloId), [.. Settings, "--postgres", database, "--silo-id", siloId]);
}
