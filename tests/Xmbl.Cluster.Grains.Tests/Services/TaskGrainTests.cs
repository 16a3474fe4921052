using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Services;
using Xmbl.Cluster.Grains.Tests.Jobs;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Services;
using TaskStatus = Xmbl.Cluster.Grains.Interfaces.Services.TaskStatus;

namespace Xmbl.Cluster.Grains.Tests.Services;

/// <summary>The task grain on an embedded silo with five logical nodes and the service library.</summary>
[Trait("Suite", "Functional")]
public sealed class TaskGrainTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static Task<ComputeSilo> StartAsync() =>
        ComputeSilo.StartAsync(5, services: s => s.AddServiceLibrary(new ConfigurationBuilder().Build()));

    [Fact]
    public async Task Every_node_answers_the_task_request_and_the_package_is_retrieved_once_per_silo_then_cached()
    {
        await using var silo = await StartAsync();
        using var author = Ed25519KeyPair.Generate();
        await PublishAsync(silo, author, "org.example.cached");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the scheduler's first registry refresh

        var first = await SubmitAsync(silo, "org.example.cached");
        var firstDone = await WaitAsync(silo, first.Id);
        var second = await SubmitAsync(silo, "org.example.cached");
        var secondDone = await WaitAsync(silo, second.Id);

        Assert.Equal(5, first.Answers.Count);
        Assert.All(first.Answers, a => Assert.NotNull(a.Fitness));
        Assert.Equal(first.Answers.MaxBy(a => a.Fitness)!.NodeId, first.Node);
        Assert.Equal(TaskStatus.Delivered, firstDone.Status);
        Assert.Equal(TaskStatus.Delivered, secondDone.Status);
        Assert.Equal(1, silo.Services.GetRequiredService<ServicePackageCache>().Retrievals);
        // The second request saw the package cached on every node of the silo, and counted it in the fitness.
        Assert.All(second.Answers, a => Assert.Contains("package cached", a.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_package_altered_in_storage_is_refused_on_retrieval_and_the_task_is_refused_with_the_reason()
    {
        await using var silo = await StartAsync();
        using var author = Ed25519KeyPair.Generate();
        var entry = await PublishAsync(silo, author, "org.example.altered");
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        // Someone with the library's account overwrites the stored copy (a disk or a node gone bad would do the same).
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var slash = entry.Object.IndexOf('/', StringComparison.Ordinal);
        Assert.True(ObjectKey.TryCreate(entry.Object[..slash], entry.Object[(slash + 1)..], out var key, out _));
        var forged = Package(author, "org.example.altered", "forged");
        using (var body = new MemoryStream(forged))
        {
            await objects.PutAsync(key, new ObjectWriteOptions(ServiceLibrary.Account, ServiceLibrary.MediaType), forged.Length, body, CancellationToken.None);
        }

        var task = await SubmitAsync(silo, "org.example.altered");
        var done = await WaitAsync(silo, task.Id);

        Assert.Equal(TaskStatus.Refused, done.Status);
        Assert.Contains("retrieve_service refused org.example.altered@1.0.0 (tampered)", done.Reason, StringComparison.Ordinal);
        Assert.Empty(done.Outputs);
        var job = await silo.Grains.GetGrain<IJobGrain>(done.JobId).GetAsync();
        // Every node that ran it found the same: the refusal is the validated result.
        Assert.Equal(JobStatus.Settled, job!.Status);
        Assert.Equal(RunOutcome.Invalid, job.Result!.Outcome);
    }

    [Fact]
    public async Task A_manifest_that_asks_for_more_than_any_node_has_gets_no_node_and_each_nodes_reason()
    {
        await using var silo = await StartAsync();
        using var author = Ed25519KeyPair.Generate();
        await PublishAsync(silo, author, "org.example.gpu", gpu: true);
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var result = await silo.Grains.GetGrain<ITaskGrain>(JobIds.New(DateTimeOffset.UtcNow)).SubmitAsync(Submission(silo, "org.example.gpu"));

        Assert.Equal(TaskRefusal.NoNode, result.Refusal);
        Assert.Contains("has no GPU, which the manifest requires", result.Detail, StringComparison.Ordinal);
        Assert.Null(result.Task);
    }

    [Fact]
    public async Task A_trusted_task_runs_a_nested_job_whose_output_the_executor_and_validator_agree_on()
    {
        using var author = Ed25519KeyPair.Generate();
        await using var silo = await ComputeSilo.StartAsync(5, services: s => s.AddServiceLibrary(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Xmbl:Services:TrustedPublishers:0"] = author.PublicKey.Did })
            .Build()));
        var hello = await silo.UploadAsync("hello.wasm");
        var manifest = new ServiceManifest
        {
            PackageId = "org.example.nested",
            Version = "1.0.0",
            ServiceType = "utility",
            Author = author.PublicKey.Did,
            RuntimeRequired = ["wasm"],
            DeviceProfile = "budget",
            ResourceRequirements = new ResourceRequirements { MinMemoryMB = 1, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1 },
            PlatformSupport = ["linux"],
            Capabilities = [ServiceCapabilities.Jobs],
            Inputs = [new ServiceInput { Name = "module", Type = ServiceValueType.String }],
            Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String, FileType = "txt" }],
            Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module)],
            Entry = "modules/main.wasm",
        };
        var package = PackageWriter.Write(manifest, new Dictionary<string, byte[]> { ["modules/main.wasm"] = ComputeSilo.Fixture("service_nested.wasm") }, author);
        await silo.Services.GetRequiredService<ServiceLibrary>().PublishAsync(package, author.PublicKey.Did, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var submitted = await silo.Grains.GetGrain<ITaskGrain>(JobIds.New(DateTimeOffset.UtcNow))
            .SubmitAsync(new TaskSubmission("org.example.nested", "1.0.0", $$"""{"module":"{{hello}}"}""", "results/nested/", [], silo.Submitter, null));
        Assert.True(submitted.Refusal == TaskRefusal.None, $"{submitted.Refusal}: {submitted.Detail}");
        var done = await WaitAsync(silo, submitted.Task!.Id);

        Assert.True(done.Status == TaskStatus.Delivered, $"{done.Status}: {done.Reason}");
        var job = await silo.Grains.GetGrain<IJobGrain>(done.JobId).GetAsync();
        Assert.Equal(JobStatus.Settled, job!.Status);
        Assert.Equal(RunOutcome.Exited, job.Result!.Outcome);
        Assert.Single(job.Validators); // the validator ran the nested job too, and agreed
        Assert.True(TaskOutputBundle.TryDecode(await silo.Jobs.GetOutputAsync(done.JobId), out var bundle));
        Assert.Equal("Hello, world!\n", System.Text.Encoding.UTF8.GetString(bundle.Files["result"]));
    }

    private static TaskSubmission Submission(ComputeSilo silo, string service) =>
        new(service, "1.0.0", """{"text":"abc"}""", "results/grain/", [], silo.Submitter, null);

    private static async Task<TaskRecord> SubmitAsync(ComputeSilo silo, string service)
    {
        var result = await silo.Grains.GetGrain<ITaskGrain>(JobIds.New(DateTimeOffset.UtcNow)).SubmitAsync(Submission(silo, service));
        Assert.True(result.Refusal == TaskRefusal.None, $"{result.Refusal}: {result.Detail}");
        return result.Task!;
    }

    private static async Task<TaskRecord> WaitAsync(ComputeSilo silo, string id)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var task = await silo.Grains.GetGrain<ITaskGrain>(id).GetAsync();
            if (task!.Status != TaskStatus.Started)
            {
                return task;
            }

            Assert.True(DateTime.UtcNow < deadline, $"task {id} still started");
            await Task.Delay(50);
        }
    }

    private static async Task<Interfaces.Services.ServiceEntry> PublishAsync(ComputeSilo silo, Ed25519KeyPair author, string id, bool gpu = false)
    {
        var (_, listing) = await silo.Services.GetRequiredService<ServiceLibrary>().PublishAsync(Package(author, id, "", gpu), author.PublicKey.Did, CancellationToken.None);
        return listing.Entry;
    }

    private static byte[] Package(Ed25519KeyPair author, string id, string description, bool gpu = false)
    {
        var manifest = new ServiceManifest
        {
            PackageId = id,
            Version = "1.0.0",
            ServiceType = "utility",
            Author = author.PublicKey.Did,
            Description = description,
            RuntimeRequired = ["wasm"],
            DeviceProfile = "budget",
            ResourceRequirements = new ResourceRequirements { MinMemoryMB = 1, MaxMemoryMB = 16, EstimatedCpuUsage = 0.1, RequiresGpu = gpu },
            PlatformSupport = ["linux"],
            Inputs = [new ServiceInput { Name = "text", Type = ServiceValueType.String }],
            Outputs = [new ServiceOutput { Name = "result", Type = ServiceValueType.String, FileType = "txt" }],
            Files = [new ServiceFile("modules/main.wasm", ServiceFileKind.Module)],
            Entry = "modules/main.wasm",
        };
        return PackageWriter.Write(manifest, new Dictionary<string, byte[]> { ["modules/main.wasm"] = ComputeSilo.Fixture("service_upper.wasm") }, author);
    }
}
