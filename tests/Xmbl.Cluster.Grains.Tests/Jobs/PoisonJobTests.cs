using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>A job whose runs take the silo down is counted at every restart that finds it unfinished, and fails as poisonous at the limit.</summary>
[Trait("Suite", "Functional")]
public sealed class PoisonJobTests
{
    private const string Restarted = "was unfinished when node";

    [Fact]
    public async Task JobUnfinishedAtTwoRestartsAfterCrashes_FailsAsPoisonous_WithoutRunningAgain()
    {
        using var data = new TempDirectory("xmbl-poison");
        string jobId;
        await using (var first = await ComputeSilo.StartAsync(nodes: 2, dataDirectory: data.Path))
        {
            var loop = await first.UploadAsync("infinite_loop.wasm");
            jobId = (await first.Jobs.SubmitAsync(new JobRequest(loop, Fuel: 1_000_000_000_000, WallTime: TimeSpan.FromMinutes(2), Validators: 1))).Id;
            await WaitRunningAsync(first, 2);
            await first.CrashAsync();
        }

        await using (var second = await ComputeSilo.StartAsync(nodes: 2, dataDirectory: data.Path))
        {
            // Executor and validator were both unfinished: one restart, counted once, and both run again.
            await WaitRunningAsync(second, 2);
            var record = (await second.Jobs.GetAsync(jobId))!;
            Assert.False(record.IsFinal);
            Assert.Single(record.Transitions, t => t.Reason.Contains(Restarted, StringComparison.Ordinal) && t.Reason.Contains("restart 1;", StringComparison.Ordinal));
            await second.CrashAsync();
        }

        await using var third = await ComputeSilo.StartAsync(nodes: 2, dataDirectory: data.Path);
        var job = await third.WaitAsync(jobId, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.StartsWith("poisonous: crashed or hung the node on 2 restarts", job.FailureReason, StringComparison.Ordinal);
        Assert.All(job.Assignments, a => Assert.Equal(AssignmentStatus.Cancelled, a.Status));
        Assert.Equal(0, third.Services.GetRequiredService<JobExecutorHost>().Executors.Sum(e => e.InFlight));
    }

    [Fact]
    public async Task CleanRestarts_DoNotCountAgainstTheJob()
    {
        using var data = new TempDirectory("xmbl-poison");
        string jobId;
        await using (var first = await ComputeSilo.StartAsync(nodes: 1, dataDirectory: data.Path))
        {
            var loop = await first.UploadAsync("infinite_loop.wasm");
            jobId = (await first.Jobs.SubmitAsync(new JobRequest(loop, Fuel: 1_000_000_000_000, WallTime: TimeSpan.FromMinutes(2), Validators: 0))).Id;
            await WaitRunningAsync(first, 1);
        }

        for (var restart = 0; restart < 2; restart++)
        {
            await using var silo = await ComputeSilo.StartAsync(nodes: 1, dataDirectory: data.Path);
            await WaitRunningAsync(silo, 1);
        }

        await using var last = await ComputeSilo.StartAsync(nodes: 1, dataDirectory: data.Path);
        await WaitRunningAsync(last, 1);
        var record = (await last.Jobs.GetAsync(jobId))!;
        Assert.Equal(JobStatus.Scheduled, record.Status);
        Assert.DoesNotContain(record.Transitions, t => t.Reason.Contains(Restarted, StringComparison.Ordinal));
        await last.Jobs.CancelAsync(jobId, null);
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
