using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Jobs reading stored objects as files and storing their validated output as objects.</summary>
[Trait("Suite", "Functional")]
public sealed class JobObjectsTests
{
    [Fact]
    public async Task InputObjects_AreFilesUnderInput_AndTheValidatedOutputIsStoredUnderUniqueNames()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 5);
        await PutAsync(silo, "data", "in/a.txt", "first file\n");
        await PutAsync(silo, "data", "b.txt", "second file\n");
        var cat = await silo.UploadAsync("cat.wasm");

        var names = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var submitted = await silo.SubmitAsync(new JobRequest(
                cat, Args: ["/input/data/in/a.txt", "/input/data/b.txt"], Validators: 1, InputObjects: ["data/in/a.txt", "data/b.txt"], OutputObject: "results/cat/"));
            var job = await silo.WaitAsync(submitted.Id);

            Assert.Equal(JobStatus.Settled, job.Status);
            Assert.Equal("first file\nsecond file\n", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
            Assert.All(job.Assignments, a => Assert.True(a.Agreed));
            Assert.Matches(@"^results/cat/\d{8}T\d{6}Z-\d{6}$", job.OutputObject);
            Assert.Equal("first file\nsecond file\n", await ReadAsync(silo, job.OutputObject!));
            Assert.Contains(job.Transitions, t => t.Reason == $"output stored as {job.OutputObject} (23 bytes)");
            names.Add(job.OutputObject!);
        }

        Assert.NotEqual(names[0], names[1]);
    }

    [Fact]
    public async Task OutputObject_WithAName_IsStoredThere_OwnedByTheSubmitter()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 3);
        var hello = await silo.UploadAsync("hello.wasm");

        var submitted = await silo.SubmitAsync(new JobRequest(hello, Validators: 1, OutputObject: "results/hello.txt"));
        var job = await silo.WaitAsync(submitted.Id);

        Assert.Equal("results/hello.txt", job.OutputObject);
        Assert.Equal("Hello, world!\n", await ReadAsync(silo, "results/hello.txt"));
        var objects = silo.Services.GetRequiredService<ObjectService>();
        Assert.True(ObjectKey.TryCreate("results", "hello.txt", out var key, out _));
        Assert.Equal(silo.Submitter, (await objects.GetAsync(key))!.Owner);
    }

    [Fact]
    public async Task Submit_MissingOrMalformedObjects_IsRejectedWithFieldErrors_AndNothingRuns()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var cat = await silo.UploadAsync("cat.wasm");

        var ex = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(
            cat, InputObjects: ["data/missing.txt", "no-slash", "data/missing.txt"], OutputObject: "Bad Namespace/x")));

        var inputErrors = ex.Errors["inputObjects"];
        Assert.Contains(inputErrors, e => e.Contains("'data/missing.txt' does not exist", StringComparison.Ordinal));
        Assert.Contains(inputErrors, e => e.Contains("'no-slash' is not an object address", StringComparison.Ordinal));
        Assert.Contains(inputErrors, e => e.Contains("listed twice", StringComparison.Ordinal));
        Assert.Contains("outputObject", ex.Errors.Keys);
        Assert.Empty((await silo.Jobs.ListAsync(new JobQuery())).Items);
    }

    [Fact]
    public async Task Submit_MoreInputsOrBytesThanTheLimits_IsRejected()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, new Dictionary<string, string?>
        {
            ["Xmbl:Compute:MaxInputObjects"] = "2",
            ["Xmbl:Compute:MaxInputBytes"] = "10",
        });
        await PutAsync(silo, "data", "a", "0123456789");
        await PutAsync(silo, "data", "b", "x");
        var cat = await silo.UploadAsync("cat.wasm");

        var tooMany = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(cat, InputObjects: ["data/a", "data/b", "data/c"])));
        var tooLarge = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(cat, InputObjects: ["data/a", "data/b"])));

        Assert.Contains(tooMany.Errors["inputObjects"], e => e.Contains("the limit is 2", StringComparison.Ordinal));
        Assert.Contains(tooLarge.Errors["inputObjects"], e => e.Contains("the inputs hold 11 bytes; the limit is 10", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Input_ChangedOrDeletedAfterSubmission_FailsTheSameWayOnEveryNode()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        await PutAsync(silo, "data", "x", "before");
        var inputs = silo.Services.GetRequiredService<JobObjects>();
        var spec = new JobSpec(new string('a', 64), JobSpec.WasiStart, [], [], [], new JobLimits(1000, 1, TimeSpan.FromSeconds(1)), null, 0, ["data/x"], null, null, ["0000"]);

        var changed = await Assert.ThrowsAsync<JobInputException>(() => inputs.LoadInputsAsync(spec, default));
        var pinned = await inputs.LoadInputsAsync(spec with { InputSha256 = null }, default);
        await silo.Services.GetRequiredService<ObjectService>().DeleteAsync(Key("data/x"), default);
        var deleted = await Assert.ThrowsAsync<JobInputException>(() => inputs.LoadInputsAsync(spec, default));

        Assert.Equal("input 'data/x' changed after the job was submitted", changed.Message);
        Assert.True(pinned!.TryReadFile("data/x", out var content));
        Assert.Equal("before", Encoding.UTF8.GetString(content));
        Assert.Equal("input 'data/x' was deleted after the job was submitted", deleted.Message);
    }

    private static ObjectKey Key(string address)
    {
        var slash = address.IndexOf('/', StringComparison.Ordinal);
        Assert.True(ObjectKey.TryCreate(address[..slash], address[(slash + 1)..], out var key, out var error), error);
        return key;
    }

    private static async Task PutAsync(ComputeSilo silo, string ns, string name, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        using var body = new MemoryStream(bytes);
        await silo.Services.GetRequiredService<ObjectService>().PutAsync(Key(ns + "/" + name), new ObjectWriteOptions(ObjectService.AnonymousAccount, "text/plain"), bytes.Length, body, default);
    }

    private static async Task<string> ReadAsync(ComputeSilo silo, string address)
    {
        var objects = silo.Services.GetRequiredService<ObjectService>();
        var stored = await objects.GetAsync(Key(address));
        Assert.NotNull(stored);
        using var content = new MemoryStream();
        await objects.ReadAsync(stored, content, 0, null, default);
        return Encoding.UTF8.GetString(content.ToArray());
    }
}
