using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Engines.Managed;
using Xmbl.Cluster.Wasm.Wasmtime;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>The silo's engine: chosen by <c>Xmbl:Compute:Engine</c>, announced by its nodes, and Wasmtime's compiled
/// code kept across restarts.</summary>
[Trait("Suite", "Functional")]
public sealed class ComputeEngineTests
{
    [Fact]
    public async Task Silo_RestartedAfterRunningAModule_LoadsItsCompiledCodeFromDiskWithoutCompiling()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var hash = await silo.UploadAsync("hello.wasm");
        var first = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 1))).Id);

        await silo.RestartAsync();
        var second = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 1))).Id);

        var engine = Assert.IsType<WasmtimeEngine>(silo.Services.GetRequiredService<IWasmEngine>());
        Assert.Equal((JobStatus.Settled, JobStatus.Settled), (first.Status, second.Status));
        Assert.Equal(first.Result?.ResultHash, second.Result?.ResultHash);
        Assert.Equal(0, engine.CompiledCount);
        Assert.Equal(1, engine.LoadedFromDiskCount);
    }

    [Fact]
    public async Task Silo_ConfiguredForTheManagedEngine_RunsJobsOnItAndItsNodesAnnounceIt()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, new Dictionary<string, string?> { ["Xmbl:Compute:Engine"] = "managed" });
        var hash = await silo.UploadAsync("hello.wasm");

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 1))).Id);

        Assert.IsType<ManagedWasmEngine>(silo.Services.GetRequiredService<IWasmEngine>());
        Assert.Equal(JobStatus.Settled, job.Status);
        var announced = silo.Services.GetRequiredService<NodeAnnouncement>().Resources;
        Assert.Equal(("managed", typeof(ManagedWasmEngine).Assembly.GetName().Version?.ToString(3)), (announced.Engine, announced.EngineVersion));
    }
}
