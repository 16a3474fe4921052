using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>Jobs through the REST API of a real embedded silo process.</summary>
[Trait("Suite", "Functional")]
public sealed class EmbeddedJobsTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-jobs");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task WasiCProgram_ThroughTheApi_ReturnsItsStdoutValidatedByASecondNode()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "3");
        var hash = await JobsApi.UploadAsync(silo, "hello.wasm");

        var id = await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hash, ["validators"] = 1 });
        var job = await JobsApi.WaitAsync(silo, id);

        Assert.Equal("Settled", job.Text("status"));
        Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(silo, id));
        Assert.Equal("Exited", job.Text("outcome"));
        Assert.Equal(0, job.GetProperty("exitCode").GetInt32());
        var validator = Assert.Single(job.GetProperty("validatorNodes").EnumerateArray()).GetString();
        Assert.NotEqual(job.Text("executor"), validator);
        Assert.Equal(64, job.Text("resultHash")!.Length);
        Assert.True(job.GetProperty("price").GetDecimal() > 0);
        var statuses = job.GetProperty("transitions").EnumerateArray().Select(t => t.Text("to")).Distinct().ToList();
        Assert.Equal(["Pending", "Scheduled", "Executed", "Validating", "Validated", "Settled"], statuses);

        var listed = await silo.GetJsonAsync("/api/jobs?status=settled");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), j => j.Text("id") == id);
        var events = await silo.Http.GetStringAsync(new Uri($"/api/jobs/{id}/events", UriKind.Relative));
        Assert.Contains("event: final", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArgsEnvAndStdin_ReachTheProgram()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var echo = await JobsApi.UploadAsync(silo, "echo.wasm");

        var id = await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = echo, ["stdin"] = "from stdin\n", ["validators"] = 1 });
        await JobsApi.WaitAsync(silo, id);

        Assert.Equal("from stdin\n", await JobsApi.OutputAsync(silo, id));
    }

    [Fact]
    public async Task DishonestExecutor_IsCaughtTheResultStaysHonestAndItGetsFewerJobs()
    {
        // Chaos option: node 0 of this silo alters every output it produces as executor.
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "4", "--Xmbl:Compute:LyingNodes:0", "0");
        var hash = await JobsApi.UploadAsync(silo, "hello.wasm");
        var cluster = await silo.GetJsonAsync("/api/cluster");
        var liar = DiscoverLiar(silo.Output);

        // Rounds of four concurrent jobs fill every node's slots, so the liar executes some of them whatever the
        // fitness ranking (one-at-a-time jobs could all go to the best-ranked honest node on a loaded machine).
        JsonElement? caught = null;
        for (var round = 0; round < 10 && caught is null; round++)
        {
            var ids = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hash, ["validators"] = 1 })));
            foreach (var id in ids)
            {
                var job = await JobsApi.WaitAsync(silo, id);
                Assert.Equal("Settled", job.Text("status"));
                Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(silo, id));
                if (caught is null && job.GetProperty("transitions").EnumerateArray().Any(t => t.Text("to") == "Disputed"))
                {
                    caught = job;
                }
            }
        }

        Assert.NotNull(caught);
        var liarAssignment = caught.Value.GetProperty("assignments").EnumerateArray().Single(a => a.Text("role") == "Executor");
        Assert.False(liarAssignment.GetProperty("agreed").GetBoolean());
        var liarId = liarAssignment.Text("nodeId");
        Assert.True(liar is null || liar == liarId);
        Assert.Contains(cluster.GetProperty("nodes").EnumerateArray(), n => n.Text("id") == liarId);

        var executors = new List<string?>();
        for (var i = 0; i < 15; i++)
        {
            var id = await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hash, ["validators"] = 1 });
            var job = await JobsApi.WaitAsync(silo, id);
            Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(silo, id));
            executors.Add(job.Text("executor"));
        }

        Assert.True(executors.Count(e => e == liarId) < executors.Count / 3, $"the liar executed {executors.Count(e => e == liarId)} of 15 jobs after being caught");
    }

    [Fact]
    public async Task InfiniteLoop_EndsFuelExhaustedReportedAndPriced_AndTheSiloKeepsServing()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var loop = await JobsApi.UploadAsync(silo, "infinite_loop.wasm");
        var hello = await JobsApi.UploadAsync(silo, "hello.wasm");

        var id = await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = loop, ["validators"] = 1, ["limits"] = new JsonObject { ["fuel"] = 30_000_000 } });
        var job = await JobsApi.WaitAsync(silo, id);
        var next = await JobsApi.WaitAsync(silo, await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hello, ["validators"] = 1 }));

        Assert.Equal("Settled", job.Text("status"));
        Assert.Equal("OutOfFuel", job.Text("outcome"));
        Assert.Equal(134, job.GetProperty("exitCode").GetInt32());
        Assert.StartsWith("fuel exhausted", job.Text("reason"), StringComparison.Ordinal);
        Assert.True(job.GetProperty("price").GetDecimal() > 0);
        Assert.StartsWith("looping forever", await JobsApi.OutputAsync(silo, id), StringComparison.Ordinal);
        Assert.Equal("Settled", next.Text("status"));
        Assert.Equal("Exited", next.Text("outcome"));
    }

    [Fact]
    public async Task TwoHundredConcurrentJobs_AllReachAFinalStateAndNoneRunsTwice()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "5");
        var hash = await JobsApi.UploadAsync(silo, "hello.wasm");

        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hash, ["validators"] = 1 })));
        var jobs = await Task.WhenAll(ids.Select(id => JobsApi.WaitAsync(silo, id, TimeSpan.FromMinutes(3))));

        Assert.Equal(200, ids.Distinct().Count());
        Assert.All(jobs, job =>
        {
            Assert.Equal("Settled", job.Text("status"));
            var assignments = job.GetProperty("assignments").EnumerateArray().ToList();
            Assert.Equal(2, assignments.Count);
            Assert.All(assignments, a => Assert.Equal("Reported", a.Text("status")));
        });
    }

    [Fact]
    public async Task BadRequests_AnswerProblemDetails()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "1");

        using var badJob = await silo.Http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), new { module = new string('a', 64), validators = 5 });
        using var unknownJob = await silo.Http.GetAsync(new Uri("/api/jobs/0190000000000-aaaaaaaaaaaa", UriKind.Relative));
        using var malformedHash = await silo.Http.GetAsync(new Uri("/api/modules/nothex", UriKind.Relative));
        using var unknownModule = await silo.Http.GetAsync(new Uri("/api/modules/" + new string('b', 64), UriKind.Relative));
        using var garbage = await silo.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), new ByteArrayContent("not a module"u8.ToArray()));

        Assert.Equal(HttpStatusCode.BadRequest, badJob.StatusCode);
        var problem = JsonDocument.Parse(await badJob.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty("module", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("validators", out _));
        Assert.Equal(HttpStatusCode.NotFound, unknownJob.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformedHash.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownModule.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Equal("application/problem+json", garbage.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Cli_SubmitWait_PrintsStdoutAndExitsWithTheJobsExitCode()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var file = Path.Combine(_data.Path, "hello.wasm");
        await File.WriteAllBytesAsync(file, JobsApi.Fixture("hello.wasm"));
        var exitFile = Path.Combine(_data.Path, "exit_code.wasm");
        await File.WriteAllBytesAsync(exitFile, JobsApi.Fixture("exit_code.wasm"));

        var (code, stdout, stderr) = await RunCliAsync("--gateway", silo.BaseAddress.ToString(), "job", "submit", file, "--validators", "1", "--wait");
        var (exitCode, _, _) = await RunCliAsync("--gateway", silo.BaseAddress.ToString(), "job", "submit", exitFile, "--wait", "--", "7");
        var (jsonCode, json, _) = await RunCliAsync("--gateway", silo.BaseAddress.ToString(), "job", "submit", file, "--json");
        var id = JsonDocument.Parse(json).RootElement.GetProperty("id").GetString()!;
        await JobsApi.WaitAsync(silo, id);
        var (lsCode, ls, _) = await RunCliAsync("--gateway", silo.BaseAddress.ToString(), "job", "ls");
        var (outCode, output, _) = await RunCliAsync("--gateway", silo.BaseAddress.ToString(), "job", "output", id);

        Assert.Equal(0, code);
        Assert.Equal("Hello, world!\n", stdout);
        Assert.Contains("settled", stderr, StringComparison.Ordinal);
        Assert.Equal(7, exitCode);
        Assert.Equal(0, jsonCode);
        Assert.Equal(0, lsCode);
        Assert.Contains(id, ls, StringComparison.Ordinal);
        Assert.Equal((0, "Hello, world!\n"), (outCode, output));
    }

    [Fact]
    public async Task Cli_SubmitWithInputAndOutputObjects_ReadsStoredFilesAndStoresTheValidatedOutput()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "5");
        var gateway = silo.BaseAddress.ToString();
        var cat = Path.Combine(_data.Path, "cat.wasm");
        await File.WriteAllBytesAsync(cat, JobsApi.Fixture("cat.wasm"));
        var input = Path.Combine(_data.Path, "poem.txt");
        await File.WriteAllTextAsync(input, "roses are red\n");
        var back = Path.Combine(_data.Path, "back.txt");

        var (putCode, _, putErr) = await RunCliAsync("--gateway", gateway, "put", input, "texts/poem.txt");
        var (code, stdout, stderr) = await RunCliAsync("--gateway", gateway, "job", "submit", cat, "--input", "texts/poem.txt", "--output", "results/poem-copy.txt", "--wait", "--", "/input/texts/poem.txt");
        var (getCode, _, getErr) = await RunCliAsync("--gateway", gateway, "get", "results/poem-copy.txt", back);
        var (missingCode, _, missingErr) = await RunCliAsync("--gateway", gateway, "job", "submit", cat, "--input", "texts/absent.txt");

        Assert.True(putCode == 0, putErr);
        Assert.True(code == 0, stderr);
        Assert.Equal("roses are red\n", stdout);
        Assert.True(getCode == 0, getErr);
        Assert.Equal("roses are red\n", await File.ReadAllTextAsync(back));
        Assert.NotEqual(0, missingCode);
        Assert.Contains("'texts/absent.txt' does not exist", missingErr, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var code = await CliApplication.RunAsync(["--wallet", Path.Combine(_data.Path, "wallet.key"), .. args], console);
        return (code, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }

    /// <summary>The lying node as the silo logs it at start (information level may be filtered; then null).</summary>
    private static string? DiscoverLiar(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            if (line.Contains("lying: True", StringComparison.Ordinal) && line.IndexOf("did:key:", StringComparison.Ordinal) is var i and >= 0)
            {
                return line[i..].Split(' ')[0];
            }
        }

        return null;
    }
}
