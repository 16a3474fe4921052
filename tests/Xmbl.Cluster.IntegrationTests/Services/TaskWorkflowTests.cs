using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Services;

/// <summary>
/// An embedded silo with three nodes, the service library and short task timings: a result is delivered again after
/// 2 s unacknowledged and reported after the second delivery; a task's own namespace is deleted 4 s after it ends.
/// The package cache logs its retrievals (test silos log warnings only otherwise).
/// </summary>
public sealed class TaskSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-tasks");

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Silo = await SiloProcess.StartAsync(
            _data.Path,
            "--nodes", "3",
            "--Xmbl:Services:TrustedPublishers:0", TestAccounts.Did("task-trusted"),
            "--Xmbl:Services:Tasks:AckTimeout", "00:00:02",
            "--Xmbl:Services:Tasks:Deliveries", "2",
            "--Xmbl:Services:Tasks:DataRetention", "00:00:04",
            "--Logging:LogLevel:Xmbl.Cluster.Grains.Services.ServicePackageCache", "Information");

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>The task workflow through a real silo: publish, task request, fitness, task_start, proof, delivery, acknowledgement.</summary>
[Trait("Suite", "Functional")]
public sealed class TaskWorkflowTests(TaskSiloFixture fixture) : IClassFixture<TaskSiloFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _files = new("xmbl-task-cli");

    private SiloProcess Silo => fixture.Silo;

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task From_xmbl_service_publish_to_an_acknowledged_result_with_validated_uniquely_named_outputs()
    {
        Assert.Equal(0, (await RunAsync("dev.key", "service", "new", "shout", "--id", "org.example.taskshout", "--in", _files.Path)).Exit);
        var package = Path.Combine(_files.Path, "shout.meshsvc");
        Assert.Equal(0, (await RunAsync("dev.key", "service", "pack", Path.Combine(_files.Path, "shout"), "-o", package)).Exit);
        var publish = await RunAsync("dev.key", "service", "publish", package);
        Assert.True(publish.Exit == 0, publish.Err);
        await Silo.FundAsync(TestAccounts.Did("recipient"));

        var first = await SubmitAsync("recipient", new { service = "org.example.taskshout", version = "0.1.0", inputs = new { text = "hello" }, outputs = "results/shout/" });
        var second = await SubmitAsync("recipient", new { service = "org.example.taskshout", version = "0.1.0", inputs = new { text = "hello" }, outputs = "results/shout/" });

        // Every node answered the task request with its fitness, and the fittest got task_start.
        Assert.Equal(3, first.GetProperty("answers").GetArrayLength());
        Assert.All(first.GetProperty("answers").EnumerateArray(), a => Assert.True(a.GetProperty("fitness").GetDouble() > 0));
        Assert.Equal("Started", first.GetProperty("status").GetString());
        var done = await WaitForAsync(first.GetProperty("id").GetString()!, "Delivered");
        var doneToo = await WaitForAsync(second.GetProperty("id").GetString()!, "Delivered");

        // The task ran as a job: validated by another node, escrow settled; the proof covers the output file.
        var job = await Silo.GetJsonAsync("/api/jobs/" + done.GetProperty("jobId").GetString());
        Assert.Equal("Settled", job.GetProperty("status").GetString());
        Assert.Single(job.GetProperty("validatorNodes").EnumerateArray());
        Assert.Equal(done.GetProperty("node").GetString(), job.GetProperty("executor").GetString());
        Assert.Equal(done.GetProperty("id").GetString(), job.GetProperty("task").GetString());
        Assert.Equal(done.GetProperty("outputs")[0].GetProperty("object").GetString(), job.GetProperty("taskOutputs")[0].GetProperty("object").GetString());
        Assert.True(job.GetProperty("escrow").GetProperty("settled").GetBoolean());
        var bundle = await Silo.Unsigned.GetByteArrayAsync(new Uri($"/api/jobs/{done.GetProperty("jobId").GetString()}/output", UriKind.Relative));
        Assert.True(TaskOutputBundle.TryDecode(bundle, out var decoded));
        Assert.Equal("HELLO"u8.ToArray(), decoded.Files["result"]);

        // Stored through the storage proxy under the manifest's format, a unique name per task.
        var output = Assert.Single(done.GetProperty("outputs").EnumerateArray());
        var outputToo = Assert.Single(doneToo.GetProperty("outputs").EnumerateArray());
        var name = output.GetProperty("object").GetString()!;
        Assert.StartsWith("results/shout/result-", name, StringComparison.Ordinal);
        Assert.EndsWith(".txt", name, StringComparison.Ordinal);
        Assert.NotEqual(name, outputToo.GetProperty("object").GetString());
        Assert.Equal("HELLO", await Silo.As("recipient").GetStringAsync(new Uri("/api/objects/" + name, UriKind.Relative)));

        // The node that ran it first fetched the package from the library and verified it.
        Assert.Contains("Service org.example.taskshout@0.1.0 retrieved from the library and verified", Silo.Output, StringComparison.Ordinal);

        using var stranger = await Silo.As("stranger").PostAsync(new Uri($"/api/tasks/{done.GetProperty("id").GetString()}/ack", UriKind.Relative), null);
        using var ack = await Silo.As("recipient").PostAsync(new Uri($"/api/tasks/{done.GetProperty("id").GetString()}/ack", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, stranger.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        var acknowledged = await Silo.GetJsonAsync("/api/tasks/" + done.GetProperty("id").GetString());
        Assert.Equal("Acknowledged", acknowledged.GetProperty("status").GetString());
        Assert.Equal(1, acknowledged.GetProperty("deliveries").GetInt32());

        // The same through the CLI: xmbl task run --wait, then xmbl task ack, with the recipient's wallet.
        using (var wallet = Xmbl.Cluster.Identity.KeyFile.LoadOrCreate(Path.Combine(_files.Path, "recipient.key")))
        {
            await Silo.FundAsync(wallet.PublicKey.Did);
        }

        var run = await RunAsync("recipient.key", "task", "run", "org.example.taskshout", "0.1.0", "--input", "text=cli", "--input", "repeat=2", "--output", "results/cli/", "--wait");
        Assert.True(run.Exit == 0, run.Err + run.Out);
        var viaCli = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal("Delivered", viaCli.GetProperty("status").GetString());
        var cliOutput = viaCli.GetProperty("outputs")[0].GetProperty("object").GetString()!;
        Assert.Equal("CLICLI", await Silo.Unsigned.GetStringAsync(new Uri("/api/objects/" + cliOutput, UriKind.Relative)));
        var cliAck = await RunAsync("recipient.key", "task", "ack", viaCli.GetProperty("id").GetString()!);
        Assert.True(cliAck.Exit == 0, cliAck.Err);
        Assert.Equal("Acknowledged", JsonDocument.Parse(cliAck.Out).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_unacknowledged_result_is_delivered_again_then_reported()
    {
        await PublishAsync("task-dev", "org.example.tasknoack", "service_upper.wasm", []);
        await Silo.FundAsync(TestAccounts.Did("forgetful"));

        var task = await SubmitAsync("forgetful", new { service = "org.example.tasknoack", version = "1.0.0", inputs = new { text = "x" }, outputs = "results/noack/" });
        var reported = await WaitForAsync(task.GetProperty("id").GetString()!, "Reported");

        Assert.Equal(2, reported.GetProperty("deliveries").GetInt32());
        Assert.Contains("not acknowledged after 2 deliveries", reported.GetProperty("reason").GetString(), StringComparison.Ordinal);
        using var late = await Silo.As("forgetful").PostAsync(new Uri($"/api/tasks/{task.GetProperty("id").GetString()}/ack", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
    }

    [Fact]
    public async Task Inputs_that_break_the_manifest_are_refused_naming_each_input_and_nothing_runs()
    {
        await PublishAsync("task-dev", "org.example.taskstrict", "service_upper.wasm", []);
        await Silo.FundAsync(TestAccounts.Did("sloppy"));

        using var response = await Silo.As("sloppy").PostAsJsonAsync(
            new Uri("/api/tasks", UriKind.Relative),
            new { service = "org.example.taskstrict", version = "1.0.0", inputs = new { text = 5, colour = "red" }, outputs = "results/strict/" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("inputs.text", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("inputs.colour", out _), errors.ToString());
        var jobs = await Silo.GetJsonAsync("/api/jobs?submitter=" + TestAccounts.Did("sloppy"));
        Assert.Empty(jobs.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Unknown_versions_and_outputs_outside_the_recipients_reach_are_refused()
    {
        await PublishAsync("task-dev", "org.example.taskplaces", "service_upper.wasm", []);

        using var unknown = await Silo.As("someone").PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { service = "org.example.nothing", version = "1.0.0", inputs = new { }, outputs = "results/x/" });
        using var intoTask = await Silo.As("someone").PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { service = "org.example.taskplaces", version = "1.0.0", inputs = new { text = "a" }, outputs = "task-abc/x/" });

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, intoTask.StatusCode);
        Assert.Contains("outputs", await intoTask.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_task_reaches_its_own_and_its_services_namespaces_a_granted_global_one_and_nothing_else()
    {
        await PublishAsync("task-trusted", "org.example.taskstore", "service_storage.wasm", [ServiceCapabilities.Storage]);
        await PublishAsync("task-trusted", "org.example.taskother", "service_storage.wasm", [ServiceCapabilities.Storage]);
        await Silo.FundAsync(TestAccounts.Did("store-user"));
        using (var put = await Silo.As("store-user").PutAsync(new Uri("/api/objects/public-data/greeting", UriKind.Relative), new ByteArrayContent("hi"u8.ToArray())))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        // Service-shared: one task of the service writes, a later one reads it; the task's own namespace by alias.
        var writeShared = await RunStoreAsync("org.example.taskstore", "write", "~service/shared", "one");
        var writeOwn = await RunStoreAsync("org.example.taskstore", "write", "~task/scratch", "mine");
        Assert.Equal("written", writeShared.Result);
        Assert.Equal("written", writeOwn.Result);
        Assert.Equal("read:one", (await RunStoreAsync("org.example.taskstore", "read", "svc-org.example.taskstore/shared")).Result);

        // Task-isolated: another task of the same service cannot see it.
        var ownNamespace = writeOwn.Task.GetProperty("taskNamespace").GetString()!;
        Assert.Equal("missing", (await RunStoreAsync("org.example.taskstore", "read", ownNamespace + "/scratch")).Result);

        // Another service can neither read nor write the first service's data.
        Assert.Equal("missing", (await RunStoreAsync("org.example.taskother", "read", "svc-org.example.taskstore/shared")).Result);
        Assert.Equal("refused", (await RunStoreAsync("org.example.taskother", "write", "svc-org.example.taskstore/shared", "evil")).Result);
        Assert.Equal("read:one", (await RunStoreAsync("org.example.taskstore", "read", "~service/shared")).Result);

        // Mesh-global: only with an explicit grant.
        Assert.Equal("missing", (await RunStoreAsync("org.example.taskstore", "read", "public-data/greeting")).Result);
        Assert.Equal("read:hi", (await RunStoreAsync("org.example.taskstore", "read", "public-data/greeting", global: ["public-data"])).Result);

        // Nobody outside reaches task or service data through the REST API either.
        using var outside = await Silo.As("store-user").GetAsync(new Uri("/api/objects/svc-org.example.taskstore/shared", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);

        // The task's own namespace is deleted after the retention period (4 s here).
        var id = writeOwn.Task.GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow + Patience;
        JsonElement record;
        while (!(record = await Silo.GetJsonAsync("/api/tasks/" + id)).TryGetProperty("dataDeletedAt", out _))
        {
            Assert.True(DateTime.UtcNow < deadline, "the task namespace was not deleted: " + record);
            await Task.Delay(250);
        }

        Assert.Equal("missing", (await RunStoreAsync("org.example.taskstore", "read", ownNamespace + "/scratch")).Result);
    }

    [Fact]
    public async Task An_untrusted_publisher_gets_no_storage_capability_and_the_task_is_refused_at_task_start_with_the_reason()
    {
        await PublishAsync("task-untrusted", "org.example.taskgreedy", "service_storage.wasm", [ServiceCapabilities.Storage]);
        await Silo.FundAsync(TestAccounts.Did("store-user"));

        var task = await SubmitAsync("store-user", new { service = "org.example.taskgreedy", version = "1.0.0", inputs = new { op = "read", target = "~service/x" }, outputs = "results/greedy/" });
        var refused = await WaitForAsync(task.GetProperty("id").GetString()!, "Refused");

        Assert.Equal("untrusted", refused.GetProperty("tier").GetString());
        Assert.Contains("refused at task_start", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("untrusted publisher", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(refused.GetProperty("outputs").EnumerateArray());
    }

    private async Task<(string Result, JsonElement Task)> RunStoreAsync(string service, string op, string target, string data = "", string[]? global = null)
    {
        var task = await SubmitAsync("store-user", new
        {
            service,
            version = "1.0.0",
            inputs = new { op, target, data },
            outputs = "results/store/",
            storage = new { global = global ?? [] },
        });
        var done = await WaitForAsync(task.GetProperty("id").GetString()!, "Delivered");
        var name = Assert.Single(done.GetProperty("outputs").EnumerateArray(), o => o.GetProperty("output").GetString() == "result").GetProperty("object").GetString();
        return (await Silo.As("store-user").GetStringAsync(new Uri("/api/objects/" + name, UriKind.Relative)), done);
    }

    private async Task<JsonElement> SubmitAsync(string account, object body)
    {
        using var response = await Silo.As(account).PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/tasks answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonElement> WaitForAsync(string id, string status)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var task = await Silo.GetJsonAsync("/api/tasks/" + id);
            var now = task.GetProperty("status").GetString();
            if (now == status)
            {
                return task;
            }

            Assert.True(now is "Started" or "Delivered" && DateTime.UtcNow < deadline, $"task {id} is {now}, waiting for {status}: {task}");
            await Task.Delay(100);
        }
    }

    private async Task PublishAsync(string author, string packageId, string module, string[] capabilities)
    {
        using var response = await Silo.As(author).PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(TestPackages.Build(author, packageId, module, capabilities)));
        Assert.True(response.IsSuccessStatusCode, $"publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(string wallet, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var exit = await CliApplication.RunAsync(["--gateway", Silo.BaseAddress.ToString(), "--wallet", Path.Combine(_files.Path, wallet), .. args], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
