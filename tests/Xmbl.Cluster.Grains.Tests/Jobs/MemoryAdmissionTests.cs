using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Runs are admitted so that the memory caps of a node's running jobs stay within the memory it announced.</summary>
[Trait("Suite", "Functional")]
public sealed class MemoryAdmissionTests
{
    // 48 MiB per node, no overhead: one run of 512 pages (32 MiB) fits, two do not, although the node has two slots.
    private static Dictionary<string, string?> Settings() => new()
    {
        ["Xmbl:Node:Memory"] = "48MiB",
        ["Xmbl:Node:Concurrency"] = "2",
        ["Xmbl:Compute:RunMemoryOverheadBytes"] = "0",
        ["Xmbl:Compute:DispatchGrace"] = "00:00:30",
    };

    [Fact]
    public async Task Executor_RunsOnlyWhatFitsInTheNodesMemory_TheRestWaitsForMemory()
    {
        using var runner = new ScriptedRunner();
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, Settings(), services: s => s.AddSingleton<IJobRunner>(runner));
        var host = silo.Services.GetRequiredService<JobExecutorHost>();
        var node = silo.Services.GetRequiredService<LocalNodes>().All[0];
        var spec = new JobSpec(new string('a', 64), JobSpec.WasiStart, ["hold"], [], [], new JobLimits(1000, 512, TimeSpan.FromSeconds(20)), null, 0, [], null, null);

        // Straight to the executor, past the scheduler (as a remote scheduler's stale view could send them).
        Assert.True(host.TryDispatch(new JobDispatch("0190000000000-aaaaaaaaaaa1", 1, node.Id, JobRole.Executor, spec)));
        Assert.True(host.TryDispatch(new JobDispatch("0190000000000-aaaaaaaaaaa2", 1, node.Id, JobRole.Executor, spec)));
        await WaitUntilAsync(() => runner.Inside == 1);
        await Task.Delay(300);

        Assert.Equal(1, runner.Inside);
        Assert.Equal(512 * RunMemory.PageBytes, host.GetLoad(node).ReservedMemoryBytes);

        runner.ReleaseHeld();
        await WaitUntilAsync(() => runner.Inside == 1 && host.Executors.Single().Known == 1);
        runner.ReleaseHeld();
        await WaitUntilAsync(() => host.Executors.Single().Known == 0);
        Assert.Equal(1, runner.MaxInside);
        Assert.Equal(0, host.GetLoad(node).ReservedMemoryBytes);
    }

    [Fact]
    public async Task Scheduler_PlacesNoMoreThanFitsInANodesMemory_AndPlacesTheRestWhenMemoryFrees()
    {
        using var runner = new ScriptedRunner();
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, Settings(), services: s => s.AddSingleton<IJobRunner>(runner));
        var hash = await silo.UploadAsync("hello.wasm");

        var first = await silo.SubmitAsync(new JobRequest(hash, Args: ["hold"], MemoryPages: 512, Validators: 0));
        var second = await silo.SubmitAsync(new JobRequest(hash, Args: ["hold"], MemoryPages: 512, Validators: 0));
        var small = await silo.SubmitAsync(new JobRequest(hash, MemoryPages: 16, Validators: 0));

        Assert.Equal(JobStatus.Scheduled, first.Status);
        Assert.Equal(JobStatus.Pending, second.Status);
        // A smaller job still fits next to the first, in the node's second slot.
        Assert.Equal(JobStatus.Settled, (await silo.WaitAsync(small.Id)).Status);
        var candidate = silo.Services.GetRequiredService<JobScheduler>().Snapshot().Single();
        Assert.Equal(48L << 20, candidate.MemoryBytes);
        Assert.Equal(512 * RunMemory.PageBytes, candidate.ReservedMemoryBytes);

        await WaitUntilAsync(() => runner.Inside == 1);
        runner.ReleaseHeld();
        Assert.Equal(JobStatus.Settled, (await silo.WaitAsync(first.Id)).Status);
        await WaitUntilAsync(() => runner.Inside == 1);
        runner.ReleaseHeld();
        Assert.Equal(JobStatus.Settled, (await silo.WaitAsync(second.Id)).Status);
        Assert.Equal(1, runner.MaxInside);
    }

    [Fact]
    public async Task Executor_ResourcesChangedOnTheRunningNode_RunsMoreAtOnceWithinMoreMemory_AndFewerOnceShrunk()
    {
        using var runner = new ScriptedRunner();
        var settings = Settings();
        settings["Xmbl:Node:Concurrency"] = "1";
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, settings, services: s => s.AddSingleton<IJobRunner>(runner));
        var host = silo.Services.GetRequiredService<JobExecutorHost>();
        var announcement = silo.Services.GetRequiredService<NodeAnnouncement>();
        var node = silo.Services.GetRequiredService<LocalNodes>().All[0];
        var announced = announcement.ResourcesOf(node);
        var big = new JobSpec(new string('a', 64), JobSpec.WasiStart, ["hold"], [], [], new JobLimits(1000, 512, TimeSpan.FromSeconds(20)), null, 0, [], null, null);
        for (var i = 1; i <= 3; i++)
        {
            Assert.True(host.TryDispatch(new JobDispatch($"0190000000000-aaaaaaaaaab{i}", 1, node.Id, JobRole.Executor, big)));
        }

        await WaitUntilAsync(() => runner.Inside == 1);

        // Three workers, but 48 MiB still holds one 32 MiB run: the second waits for memory, not for a worker.
        announcement.Apply(node, announced with { Concurrency = 3 });
        await Task.Delay(300);
        Assert.Equal(1, runner.Inside);
        Assert.Equal(3, host.Executors.Single().Concurrency);

        // 96 MiB: three runs of 32 MiB fit, and the waiting runs are admitted at once.
        announcement.Apply(node, announced with { Concurrency = 3, MemoryBytes = 96L << 20 });
        await WaitUntilAsync(() => runner.Inside == 3);

        // Back to one at a time: the extra workers stop after their runs, the next runs go one by one.
        announcement.Apply(node, announced with { Concurrency = 1, MemoryBytes = 96L << 20 });
        runner.ReleaseHeld();
        await WaitUntilAsync(() => host.Executors.Single().Known == 0);
        var small = new JobSpec(new string('a', 64), JobSpec.WasiStart, ["hold"], [], [], new JobLimits(1000, 16, TimeSpan.FromSeconds(20)), null, 0, [], null, null);
        for (var i = 1; i <= 2; i++)
        {
            Assert.True(host.TryDispatch(new JobDispatch($"0190000000000-aaaaaaaaaac{i}", 1, node.Id, JobRole.Executor, small)));
        }

        await WaitUntilAsync(() => runner.Inside == 1);
        await Task.Delay(300);
        Assert.Equal(1, runner.Inside);
        runner.ReleaseHeld();
        await WaitUntilAsync(() => runner.Inside == 1 && host.Executors.Single().Known == 1);
        runner.ReleaseHeld();
        await WaitUntilAsync(() => host.Executors.Single().Known == 0);
    }

    [Fact]
    public void NodeFitness_NodeWithoutRoomForTheRunsMemory_IsNotEligible()
    {
        var node = new NodeCandidate("n1", "op", Alive: true, Concurrency: 4, Running: 1, 1m, 0.5, null, MemoryBytes: 100, ReservedMemoryBytes: 60);

        Assert.True(NodeFitness.IsEligible(node, null, 0.2, [], memoryBytes: 40));
        Assert.False(NodeFitness.IsEligible(node, null, 0.2, [], memoryBytes: 41));
        Assert.Null(NodeFitness.Pick([node], "job", null, 0.2, [], [], memoryBytes: 41));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
