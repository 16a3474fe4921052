using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Nodes do not pay for a job's fault, and a network whose nodes all fell below the minimum heals (issue 10, 4).</summary>
[Trait("Suite", "Functional")]
public sealed class JobFaultTests
{
    [Fact]
    public async Task RunnerThatThrowsOnEveryNode_FailsTheJobWithTheReason_AndAfter25SuchJobsGoodJobsStillRun()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 5, services: ExplodingRunner.Replace);
        var hash = await silo.UploadAsync("hello.wasm");

        var bad = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => silo.SubmitAsync(new JobRequest(hash, Args: [ExplodingRunner.Trigger], Validators: 1))));
        var failed = await Task.WhenAll(bad.Select(j => silo.WaitAsync(j.Id, TimeSpan.FromSeconds(30))));
        var good = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 2))).Id, TimeSpan.FromSeconds(30));

        Assert.All(failed, job =>
        {
            Assert.Equal(JobStatus.Failed, job.Status);
            Assert.Matches(@"^the job fails the same way on 2 nodes \(.+, .+\), so the fault is the job's: ArgumentNullException: .*args\[0\]", job.FailureReason);
            Assert.DoesNotContain(job.Assignments, a => a.Status == AssignmentStatus.TimedOut);
        });
        Assert.Equal(JobStatus.Settled, good.Status);
        await silo.Services.GetRequiredService<ReputationRecorder>().FlushAsync(CancellationToken.None);
        var nodes = silo.Services.GetRequiredService<LocalNodes>().All;
        foreach (var node in nodes)
        {
            var reputation = await silo.Grains.GetGrain<INodeReputationGrain>(node.Id).GetAsync();
            Assert.Equal(0, reputation.Timeouts + reputation.Disagreements);
            Assert.True(reputation.Score >= NodeReputation.InitialScore, $"{node.Id}: {reputation.Score}");
        }
    }

    [Fact]
    public async Task NullArgumentPastSubmission_EndsPromptlyWithoutTimeouts_AndNoNodePays()
    {
        // What "args":[null] did before submission refused it: straight to the job grain, the real engine behind it.
        await using var silo = await ComputeSilo.StartAsync(nodes: 3);
        var hash = await silo.UploadAsync("hello.wasm");
        var spec = new JobSpec(hash, JobSpec.WasiStart, [null!], [], [], new JobLimits(1_000_000_000, 16, TimeSpan.FromSeconds(30)), null, 1, [], null, silo.Submitter);
        var id = JobIds.New(DateTimeOffset.UtcNow);

        await silo.Grains.GetGrain<IJobGrain>(id).SubmitAsync(spec);
        var job = await silo.WaitAsync(id, TimeSpan.FromSeconds(30));

        // Today the runner throws on the null; were it to return an "invalid" result instead, the job would end just
        // as promptly, validated. Either way nothing times out and no node pays.
        Assert.DoesNotContain(job.Assignments, a => a.Status == AssignmentStatus.TimedOut);
        if (job.Status == JobStatus.Failed)
        {
            Assert.StartsWith("the job fails the same way on 2 nodes (", job.FailureReason, StringComparison.Ordinal);
            Assert.Equal(2, job.Assignments.Count(a => a.Status == AssignmentStatus.Failed));
        }

        await silo.Services.GetRequiredService<ReputationRecorder>().FlushAsync(CancellationToken.None);
        foreach (var node in silo.Services.GetRequiredService<LocalNodes>().All)
        {
            var reputation = await silo.Grains.GetGrain<INodeReputationGrain>(node.Id).GetAsync();
            Assert.Equal(0, reputation.Timeouts + reputation.Disagreements);
        }
    }

    [Fact]
    public async Task RunnerThatThrowsOnOneNodeOnly_MovesTheRoleAtOnce_AndOnlyThatNodePays()
    {
        var time = new ManualTimeProvider();
        await using var silo = await ComputeSilo.StartAsync(nodes: 3, time: time, services: s => ExplodingRunner.Replace(s, onlyNodeIndex: 0));
        var broken = silo.Services.GetRequiredService<LocalNodes>().All[0].Id;
        var hash = await silo.UploadAsync("hello.wasm");

        // Fake time stands still, so nothing here can be a timeout: the error report alone moves the role. The scheduler
        // tries untried nodes first, so with 3 nodes and 2 roles per job the broken node has a role within two jobs.
        JobRecord? moved = null;
        for (var i = 0; i < 2 && moved is null; i++)
        {
            var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Args: [ExplodingRunner.Trigger], Validators: 1))).Id, TimeSpan.FromSeconds(30));
            Assert.Equal(JobStatus.Settled, job.Status);
            if (job.Assignments.Any(a => a.NodeId == broken))
            {
                moved = job;
            }
        }

        Assert.NotNull(moved);
        var failed = Assert.Single(moved.Assignments, a => a.NodeId == broken);
        Assert.Equal(AssignmentStatus.Failed, failed.Status);
        Assert.StartsWith("ArgumentNullException", failed.Detail, StringComparison.Ordinal);
        await silo.Services.GetRequiredService<ReputationRecorder>().FlushAsync(CancellationToken.None);
        Assert.True((await silo.Grains.GetGrain<INodeReputationGrain>(broken).GetAsync()).Timeouts >= 1);
    }

    [Fact]
    public async Task AllNodesBelowMinReputation_RecoverWithTime_AndAJobIsPlacedAndValidatedAgain()
    {
        var time = new ManualTimeProvider();
        var settings = new Dictionary<string, string?> { ["Xmbl:Compute:PendingTimeout"] = "01:00:00", ["Xmbl:Node:DeathTimeout"] = "1.00:00:00" };
        await using var silo = await ComputeSilo.StartAsync(nodes: 3, settings, time);
        var scheduler = silo.Services.GetRequiredService<JobScheduler>();
        var options = silo.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ComputeOptions>>().Value;
        var nodes = silo.Services.GetRequiredService<LocalNodes>().All;
        var hash = await silo.UploadAsync("hello.wasm");
        foreach (var node in nodes)
        {
            // 0.5 · 0.7^5 ≈ 0.084: five times outvoted.
            await silo.Grains.GetGrain<INodeReputationGrain>(node.Id).RecordAsync(new ReputationDelta(0, 5, 0, time.GetUtcNow()));
        }

        await scheduler.RefreshAsync(CancellationToken.None);
        Assert.All(nodes, n => Assert.True(scheduler.ReputationOf(n.Id) < options.MinReputation));
        var start = time.GetUtcNow();
        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1));
        Assert.Equal(JobStatus.Pending, submitted.Status);

        // From 0.084 the score is back at the minimum (0.2) after log2(0.416 / 0.3) ≈ 0.47 half-lives.
        var record = submitted;
        while (record.Status == JobStatus.Pending && time.GetUtcNow() - start < 2 * options.ReputationHalfLife)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(10);
            record = (await silo.Jobs.GetAsync(submitted.Id))!;
        }

        var job = await silo.WaitAsync(submitted.Id, TimeSpan.FromSeconds(30));
        Assert.Equal(JobStatus.Settled, job.Status);
        Assert.InRange(job.ScheduledAt!.Value - start, 0.45 * options.ReputationHalfLife, 0.6 * options.ReputationHalfLife);
        var listed = await silo.Services.GetRequiredService<ReputationDirectory>().ListAsync();
        Assert.All(job.Assignments, a => Assert.True(listed[a.NodeId].Score > options.MinReputation));
    }

    /// <summary>The real runner, except that it throws, as a runner bug would, for jobs whose first argument is <see cref="Trigger"/>.</summary>
    private sealed class ExplodingRunner(IJobRunner inner, string? onlyNode) : IJobRunner
    {
        public const string Trigger = "explode";

        public static void Replace(IServiceCollection services) => Replace(services, null);

        public static void Replace(IServiceCollection services, int? onlyNodeIndex) =>
            services.AddSingleton<IJobRunner>(sp => new ExplodingRunner(
                ActivatorUtilities.CreateInstance<WasmJobRunner>(sp),
                onlyNodeIndex is { } i ? sp.GetRequiredService<LocalNodes>().All[i].Id : null));

        public Task<RunResult> RunAsync(JobWork work, CancellationToken ct)
        {
            if (work.Spec.Args.Count > 0 && work.Spec.Args[0] == Trigger && (onlyNode is null || onlyNode == work.NodeId))
            {
                throw new ArgumentNullException("args[0]");
            }

            return inner.RunAsync(work, ct);
        }
    }
}
