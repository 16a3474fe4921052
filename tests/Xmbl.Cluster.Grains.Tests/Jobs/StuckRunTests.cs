using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>The executor's watchdog: a run that ignores its wall-clock interrupt ends its assignment, frees its worker, and too many make the node unhealthy.</summary>
[Trait("Suite", "Functional")]
public sealed class StuckRunTests
{
    private static readonly TimeSpan WallTime = TimeSpan.FromMilliseconds(200);

    private static Dictionary<string, string?> Settings() => new()
    {
        // One worker, so a worker that stayed with its stuck run would serve nothing more.
        ["Xmbl:Node:Concurrency"] = "1",
        // An unreported assignment would time out only after 30 s: anything sooner is the watchdog's report.
        ["Xmbl:Compute:DispatchGrace"] = "00:00:30",
        ["Xmbl:Compute:StuckRunGrace"] = "00:00:00.300",
        ["Xmbl:Compute:MaxStuckRuns"] = "1",
        ["Xmbl:Compute:MaxAttempts"] = "1",
    };

    [Fact]
    public async Task RunThatIgnoresItsInterrupt_IsReportedWithTheReason_AndTheNodeKeepsServing()
    {
        using var runner = new ScriptedRunner();
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, Settings(), services: s => s.AddSingleton<IJobRunner>(runner));
        var hash = await silo.UploadAsync("hello.wasm");
        var started = DateTimeOffset.UtcNow;

        var hung = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Args: ["hang"], WallTime: WallTime, Validators: 0))).Id);

        Assert.Equal(JobStatus.Failed, hung.Status);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(15), "the stuck run was not reported; the assignment waited for its deadline");
        var assignment = Assert.Single(hung.Assignments);
        Assert.Equal(AssignmentStatus.TimedOut, assignment.Status);
        Assert.Contains("did not stop within", assignment.Detail, StringComparison.Ordinal);
        Assert.Contains("did not stop within", hung.FailureReason, StringComparison.Ordinal);

        // The only worker was freed: the next job runs on the same node while the stuck run still holds its thread.
        var next = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 0))).Id);
        Assert.Equal(JobStatus.Settled, next.Status);
        var executor = silo.Services.GetRequiredService<JobExecutorHost>().Executors.Single();
        Assert.Equal(1, executor.Stuck);
        Assert.Equal(1, runner.Inside);
        Assert.True(executor.StuckMemory > 0);
        Assert.Null(executor.Unhealthy);
        Assert.Empty(Problems(silo));
    }

    [Fact]
    public async Task StuckRunsPastTheLimit_MakeTheNodeUnhealthy_ItTakesNoJobs_UntilTheyReturn()
    {
        using var runner = new ScriptedRunner();
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, Settings(), services: s => s.AddSingleton<IJobRunner>(runner));
        var hash = await silo.UploadAsync("hello.wasm");
        var node = silo.Services.GetRequiredService<LocalNodes>().All[0];
        var host = silo.Services.GetRequiredService<JobExecutorHost>();

        foreach (var _ in Enumerable.Range(0, 2))
        {
            var hung = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Args: ["hang"], WallTime: WallTime, Validators: 0))).Id);
            Assert.Equal(JobStatus.Failed, hung.Status);
        }

        // Two stuck runs, one more than allowed: unhealthy where /healthz, the heartbeat and the scheduler look.
        var problem = Assert.Single(Problems(silo));
        Assert.Contains("2 run(s) stuck", problem, StringComparison.Ordinal);
        Assert.Contains(node.Id, problem, StringComparison.Ordinal);
        Assert.Equal(problem, host.GetLoad(node).Unhealthy);
        Assert.False(silo.Services.GetRequiredService<JobScheduler>().Snapshot().Single().Alive);
        var waiting = await silo.SubmitAsync(new JobRequest(hash, Validators: 0));
        await Task.Delay(500);
        Assert.Equal(JobStatus.Pending, (await silo.Jobs.GetAsync(waiting.Id))!.Status);

        runner.ReleaseHung();

        var done = await silo.WaitAsync(waiting.Id);
        Assert.Equal(JobStatus.Settled, done.Status);
        Assert.Empty(Problems(silo));
        Assert.Equal(0, host.Executors.Single().Stuck);
        Assert.Equal(0, host.Executors.Single().ReservedMemory);
    }

    [Fact]
    public async Task RunThatStopsOnceCancelledPastItsLimit_IsEndedButNotCountedAsStuck()
    {
        // E.g. a run still loading its inputs when its time is up: the engine's own clock had not started yet.
        using var runner = new ScriptedRunner();
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, Settings(), services: s => s.AddSingleton<IJobRunner>(runner));
        var hash = await silo.UploadAsync("hello.wasm");

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Args: ["hold"], WallTime: WallTime, Validators: 0))).Id);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("cancelled", Assert.Single(job.Assignments).Detail);
        Assert.Equal(0, silo.Services.GetRequiredService<JobExecutorHost>().Executors.Single().Stuck);
        Assert.Empty(Problems(silo));
    }

    private static List<string> Problems(ComputeSilo silo)
    {
        var problems = new List<string>();
        foreach (var reporter in silo.Services.GetServices<ISiloHealthReporter>())
        {
            reporter.AddProblems(problems);
        }

        return problems;
    }
}
