using System.Text;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Jobs end to end in one process: scheduler, executors of several logical nodes, the real engine, validation.</summary>
[Trait("Suite", "Functional")]
public sealed class JobExecutionTests
{
    [Fact]
    public async Task WasiProgram_WithOneValidator_ReturnsItsStdoutValidatedByASecondNode()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 3);
        var hash = await silo.UploadAsync("hello.wasm");

        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1));
        var job = await silo.WaitAsync(submitted.Id);

        Assert.Equal(JobStatus.Settled, job.Status);
        Assert.Equal("Hello, world!\n", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
        Assert.Equal((RunOutcome.Exited, 0), (job.Result!.Outcome, job.Result.ExitCode));
        var validator = Assert.Single(job.Validators);
        Assert.NotEqual(job.Executor, validator);
        Assert.All(job.Assignments, a => Assert.True(a.Agreed));
        Assert.True(job.Result.Fuel > 0);
        Assert.Equal(job.Result.Fuel * 0.01m / 1_000_000m, job.Price);
        Assert.Contains(job.Transitions, t => t.To == JobStatus.Validated && t.Reason == "all 2 nodes agree");
    }

    [Fact]
    public async Task ExportedFunction_WithArguments_PrintsItsResults()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var hash = await silo.UploadAsync("exports.wasm");
        var module = (await silo.Modules.GetInfoAsync(hash))!;
        var add = module.Exports.FirstOrDefault(e => e.Contains("add", StringComparison.Ordinal));
        Assert.NotNull(add);

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Entry: add, Args: ["2", "40"], Validators: 1))).Id);

        Assert.Equal(RunOutcome.Returned, job.Result!.Outcome);
        Assert.Equal("42\n", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
    }

    [Fact]
    public async Task InfiniteLoop_EndsAsFuelExhaustedPricedAndTheExecutorKeepsServing()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var loop = await silo.UploadAsync("infinite_loop.wasm");
        var hello = await silo.UploadAsync("hello.wasm");

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(loop, Fuel: 20_000_000, Validators: 1))).Id);
        var after = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hello, Validators: 1))).Id);

        Assert.Equal(JobStatus.Settled, job.Status);
        Assert.Equal(RunOutcome.OutOfFuel, job.Result!.Outcome);
        Assert.InRange(job.Result.Fuel, 19_000_000, 20_000_000);
        Assert.True(job.Price > 0);
        Assert.StartsWith("fuel exhausted", job.FailureReason, StringComparison.Ordinal);
        Assert.All(job.Assignments, a => Assert.True(a.Agreed));
        Assert.Equal(JobStatus.Settled, after.Status);
        Assert.Equal(RunOutcome.Exited, after.Result!.Outcome);
    }

    [Fact]
    public async Task LyingExecutor_IsOutvotedItsReputationFallsAndItGetsFewerJobs()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 4, new Dictionary<string, string?> { ["Xmbl:Compute:LyingNodes:0"] = "0" });
        var liar = silo.Services.GetRequiredService<Xmbl.Cluster.Grains.Nodes.LocalNodes>().All[0].Id;
        var hash = await silo.UploadAsync("hello.wasm");

        // Rounds of concurrent jobs that need every slot of every node (4 jobs x 2 roles = 4 nodes x 2 slots), so the
        // liar executes some whatever the ranking; sequential jobs could all go to the best-ranked honest nodes.
        JobRecord? caught = null;
        for (var round = 0; round < 10 && caught is null; round++)
        {
            var submitted = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => silo.SubmitAsync(new JobRequest(hash, Validators: 1))));
            foreach (var job in await Task.WhenAll(submitted.Select(j => silo.WaitAsync(j.Id))))
            {
                Assert.Equal(JobStatus.Settled, job.Status);
                Assert.Equal("Hello, world!\n", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
                if (job.Executor == liar)
                {
                    caught ??= job;
                }
            }
        }

        Assert.NotNull(caught);
        Assert.Contains(caught.Transitions, t => t.To == JobStatus.Disputed);
        Assert.False(caught.Assignments.Single(a => a.NodeId == liar).Agreed);
        Assert.NotEqual(liar, caught.Result!.NodeId);
        var scheduler = silo.Services.GetRequiredService<JobScheduler>();
        var others = silo.Services.GetRequiredService<Xmbl.Cluster.Grains.Nodes.LocalNodes>().All.Skip(1).Select(n => n.Id).ToList();
        Assert.All(others, n => Assert.True(scheduler.ReputationOf(n) > scheduler.ReputationOf(liar)));

        var executors = new List<string>();
        for (var i = 0; i < 15; i++)
        {
            var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 1))).Id);
            Assert.Equal("Hello, world!\n", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
            executors.Add(job.Executor!);
        }

        var liarJobs = executors.Count(e => e == liar);
        Assert.True(liarJobs < executors.Count / others.Count, $"the liar executed {liarJobs} of {executors.Count} jobs after being caught");

        await silo.Services.GetRequiredService<ReputationRecorder>().FlushAsync(CancellationToken.None);
        var stored = await silo.Grains.GetGrain<INodeReputationGrain>(liar).GetAsync();
        Assert.True(stored.Disagreements >= 1);
        Assert.True(stored.Score < NodeReputation.InitialScore);
        var listed = await silo.Services.GetRequiredService<ReputationDirectory>().ListAsync();
        // Read a moment apart, and a low score recovers with time.
        Assert.Equal(stored.Score, listed[liar].Score, 4);
        Assert.All(others, n => Assert.True(listed[n].Score > listed[liar].Score));
    }

    [Fact]
    public async Task ManyConcurrentJobs_AllFinishAndNoneRunsTwice()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 3);
        var hash = await silo.UploadAsync("hello.wasm");

        var submitted = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => silo.SubmitAsync(new JobRequest(hash, Validators: 1))));
        var jobs = await Task.WhenAll(submitted.Select(j => silo.WaitAsync(j.Id, TimeSpan.FromMinutes(3))));

        Assert.Equal(200, jobs.Select(j => j.Id).Distinct().Count());
        Assert.All(jobs, job =>
        {
            Assert.Equal(JobStatus.Settled, job.Status);
            // One executor and one validator, each run once: nothing timed out, nothing was rerun.
            Assert.Equal(2, job.Assignments.Count);
            Assert.All(job.Assignments, a => Assert.Equal(AssignmentStatus.Reported, a.Status));
        });
    }

    [Fact]
    public async Task NestedJob_RunsAnotherModuleByHashInsideTheParentsFuel()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var child = await silo.UploadAsync("echo.wasm");
        var parent = await silo.UploadAsync("nested_runner.wasm");
        var stdin = Encoding.ASCII.GetBytes(child + "ping");

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(parent, Stdin: stdin, Validators: 1))).Id);
        var alone = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(child, Stdin: "ping"u8.ToArray(), Validators: 0))).Id);

        Assert.Equal(JobStatus.Settled, job.Status);
        Assert.Equal("4:ping", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
        // The child's fuel is part of the parent's.
        Assert.True(job.Result!.Fuel > alone.Result!.Fuel);
    }

    [Fact]
    public async Task NestedJob_UnknownModule_ReturnsMinusOne()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var parent = await silo.UploadAsync("nested_runner.wasm");

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(parent, Stdin: Encoding.ASCII.GetBytes(new string('0', 64)), Validators: 0))).Id);

        Assert.Equal($"{WasmJobRunner.NestedUnknownModule}:", Encoding.UTF8.GetString((await silo.Jobs.GetOutputAsync(job.Id))!));
    }

    [Fact]
    public async Task StoppedNode_FinishesNothing_ItsAssignmentsTimeOutAndRunElsewhere()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, new Dictionary<string, string?> { ["Xmbl:Compute:DispatchGrace"] = "00:00:00.500" });
        var nodes = silo.Services.GetRequiredService<LocalNodes>();
        var stopped = nodes.All[0];
        nodes.SetOnline(stopped, false);
        var hash = await silo.UploadAsync("hello.wasm");

        // Until the stopped node is seen dead the scheduler still places jobs on it: six jobs need more than the running
        // node's two slots.
        var submitted = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => silo.SubmitAsync(new JobRequest(hash, Validators: 0, WallTime: TimeSpan.FromSeconds(1)))));
        var jobs = await Task.WhenAll(submitted.Select(j => silo.WaitAsync(j.Id)));

        Assert.All(jobs, job =>
        {
            Assert.Equal(JobStatus.Settled, job.Status);
            Assert.Equal(nodes.All[1].Id, job.Executor);
            Assert.All(job.Assignments.Where(a => a.NodeId == stopped.Id), a => Assert.Equal(AssignmentStatus.TimedOut, a.Status));
        });
        Assert.Contains(jobs.SelectMany(j => j.Assignments), a => a.NodeId == stopped.Id);
    }

    [Fact]
    public async Task Submit_UnknownModuleOrBadLimits_IsRejectedWithFieldErrors()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);

        var ex = await Assert.ThrowsAsync<JobRequestException>(() => silo.SubmitAsync(new JobRequest(new string('a', 64), Validators: 3, Fuel: -1)));

        Assert.Contains("module", ex.Errors.Keys);
        Assert.Contains("validators", ex.Errors.Keys);
        Assert.Contains("limits.fuel", ex.Errors.Keys);
    }

    [Fact]
    public async Task Module_UploadedTwice_IsStoredOnceUnderItsHash()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var bytes = ComputeSilo.Fixture("hello.wasm");

        var first = await silo.Modules.AddAsync(bytes);
        var second = await silo.Modules.AddAsync(bytes);

        Assert.Equal((first.Hash, first.UploadedAt, first.Size), (second.Hash, second.UploadedAt, second.Size));
        Assert.Equal(first.Exports, second.Exports);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), first.Hash);
        Assert.True(first.IsWasiCommand);
        Assert.Single(Directory.GetFiles(silo.Modules.Directory, "*.wasm"));
        Assert.Equal(bytes, await silo.Modules.GetBytesAsync(first.Hash));
        await Assert.ThrowsAsync<Xmbl.Cluster.Grains.Jobs.Modules.ModuleRejectedException>(() => silo.Modules.AddAsync("not wasm"u8.ToArray()));
    }
}
