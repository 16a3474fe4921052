using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>A job whose runs take the silo down is counted at every restart that finds it unfinished, and fails as poisonous at the limit.</summary>
[Trait("Suite", "Functional")]
public sealed class PoisonJobTests
{
    private const string Restarted = "was unfinished when node";

    [Fact]
    public async Task JobUnfinishedAtTwoRestartsAfterCrashes_FailsAsPoisonous_WithoutRunningAgain()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var loop = await silo.UploadAsync("infinite_loop.wasm");
        var id = (await silo.SubmitAsync(new JobRequest(loop, Fuel: 1_000_000_000_000, WallTime: TimeSpan.FromMinutes(2), Validators: 1))).Id;
        await WaitRunningAsync(silo, 2);

        await silo.RestartAsync(afterCrash: true);

        // Executor and validator were both unfinished: one restart, counted once, and both run again.
        await WaitRunningAsync(silo, 2);
        var record = (await silo.Jobs.GetAsync(id))!;
        Assert.False(record.IsFinal);
        Assert.Single(record.Transitions, t => t.Reason.Contains(Restarted, StringComparison.Ordinal) && t.Reason.Contains("restart 1;", StringComparison.Ordinal));

        await silo.RestartAsync(afterCrash: true);
        var job = await silo.WaitAsync(id, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.StartsWith("poisonous: crashed or hung the node on 2 restarts", job.FailureReason, StringComparison.Ordinal);
        Assert.All(job.Assignments, a => Assert.Equal(AssignmentStatus.Cancelled, a.Status));
        Assert.Equal(0, silo.Services.GetRequiredService<JobExecutorHost>().Executors.Sum(e => e.InFlight));
    }

    [Fact]
    public async Task CleanRestarts_DoNotCountAgainstTheJob()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var loop = await silo.UploadAsync("infinite_loop.wasm");
        var id = (await silo.SubmitAsync(new JobRequest(loop, Fuel: 1_000_000_000_000, WallTime: TimeSpan.FromMinutes(2), Validators: 0))).Id;
        await WaitRunningAsync(silo, 1);

        for (var restart = 0; restart < 3; restart++)
        {
            await silo.RestartAsync();
            await WaitRunningAsync(silo, 1);
        }

        var record = (await silo.Jobs.GetAsync(id))!;
        Assert.Equal(JobStatus.Scheduled, record.Status);
        Assert.DoesNotContain(record.Transitions, t => t.Reason.Contains(Restarted, StringComparison.Ordinal));
        await silo.Jobs.CancelAsync(id, null);
    }

    private static async Task WaitRunningAsync(ComputeSilo silo, int runs)
    {
        var host = silo.Services.GetRequiredService<JobExecutorHost>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (host.Executors.Sum(e => e.InFlight) < runs)
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
