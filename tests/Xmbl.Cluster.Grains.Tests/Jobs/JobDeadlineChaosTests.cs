using Xmbl.Cluster.Grains.Interfaces.Ledger;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>No job stays unfinished forever, whatever nodes do (issue 10, 5): a seeded randomized test on fake time.</summary>
[Trait("Suite", "Functional")]
public sealed class JobDeadlineChaosTests(ITestOutputHelper output)
{
    /// <summary>Set to replay a run: the seed is printed by every run and named in every failure.</summary>
    public const string SeedVariable = "XMBL_CHAOS_SEED";

    private static readonly TimeSpan WallTime = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Chaos = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task RoleWithNoNodeLeft_FailsWithTheTrueReasonAfterRoleWaitTimeout_AcrossASiloRestart()
    {
        var time = new ManualTimeProvider();
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, time: time);
        var nodes = silo.Services.GetRequiredService<LocalNodes>();
        var hash = await silo.UploadAsync("hello.wasm");
        // Stopped but not yet seen dead, so it still gets a role of the job, which then times out; the only other
        // node is on the job already, so that role has no node left.
        nodes.SetOnline(nodes.All[1], false);
        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1, WallTime: WallTime));
        Assert.Contains(submitted.Assignments, a => a.NodeId == nodes.All[1].Id);
        // The running node reports before any deadline passes (fake time stands still meanwhile).
        for (var i = 0; i < 1000 && !(await silo.Jobs.GetAsync(submitted.Id))!.Assignments.Any(a => a.Status == AssignmentStatus.Reported); i++)
        {
            await Task.Delay(10);
        }

        await AdvanceAsync(time, TimeSpan.FromSeconds(30));
        var waiting = (await silo.Jobs.GetAsync(submitted.Id))!;
        Assert.Contains(waiting.Assignments, a => a.Status == AssignmentStatus.TimedOut);
        Assert.False(waiting.IsFinal);

        await silo.RestartAsync();
        await AdvanceAsync(time, ComputeOptions.DefaultRoleWaitTimeout);

        var job = await silo.WaitAsync(submitted.Id, TimeSpan.FromSeconds(30));
        Assert.Equal(JobStatus.Failed, job.Status);
        var role = job.Assignments.Single(a => a.Status == AssignmentStatus.TimedOut).Role == JobRole.Executor ? "executor slot 0" : "validator slot 1";
        Assert.StartsWith($"no eligible node for {role} within 00:10:00: nodes ", job.FailureReason, StringComparison.Ordinal);
        Assert.Contains(" already on the job; its last node: no report by ", job.FailureReason, StringComparison.Ordinal);
        Assert.DoesNotContain(job.Transitions, t => t.Reason == "validators have reported");
    }

    [Fact]
    public async Task JobThatNoSiloTicks_IsActivatedByThePeriodicSweep_AndItsOverdueRoleTimesOut()
    {
        var time = new ManualTimeProvider();
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, time: time);
        var nodes = silo.Services.GetRequiredService<LocalNodes>();
        var hash = await silo.UploadAsync("hello.wasm");
        nodes.SetOnline(nodes.All[1], false);
        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1, WallTime: WallTime));
        for (var i = 0; i < 1000 && !(await silo.Jobs.GetAsync(submitted.Id))!.Assignments.Any(a => a.Status == AssignmentStatus.Reported); i++)
        {
            await Task.Delay(10);
        }

        // What a lost activation leaves (its storage failed while it undid a call, and nothing calls it since): the
        // job is on no silo's ticker.
        silo.Services.GetRequiredService<JobDeadlineTicker>().Forget(submitted.Id);
        await AdvanceAsync(time, ComputeOptions.DefaultJobSweepInterval - TimeSpan.FromSeconds(2));
        Assert.DoesNotContain((await silo.Jobs.GetAsync(submitted.Id))!.Assignments, a => a.Status == AssignmentStatus.TimedOut);

        await AdvanceAsync(time, TimeSpan.FromSeconds(4));
        var job = (await silo.Jobs.GetAsync(submitted.Id))!;
        for (var i = 0; i < 500 && !job.Assignments.Any(a => a.Status == AssignmentStatus.TimedOut); i++)
        {
            await Task.Delay(10);
            job = (await silo.Jobs.GetAsync(submitted.Id))!;
        }

        Assert.Contains(job.Assignments, a => a.Status == AssignmentStatus.TimedOut && a.NodeId == nodes.All[1].Id);
    }

    [Theory]
    [InlineData(2, JobStatus.Settled)]
    [InlineData(int.MaxValue, JobStatus.Failed)]
    public async Task SettlementThatThrows_KeepsTheValidatedResult_RetriesAtEveryTick_AndEndsWithinSettleTimeout(int failures, JobStatus expected)
    {
        var time = new ManualTimeProvider();
        var settlement = new FlakySettlement(failures);
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, time: time, services: s => s.AddSingleton<IJobSettlement>(sp =>
        {
            settlement.Grains = sp.GetRequiredService<IGrainFactory>();
            return settlement;
        }));
        var hash = await silo.UploadAsync("hello.wasm");

        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1, WallTime: WallTime));
        JobRecord record = submitted;
        for (var i = 0; i < 1000 && record.Status != JobStatus.Validated; i++)
        {
            await Task.Delay(10);
            record = (await silo.Jobs.GetAsync(submitted.Id))!;
        }

        Assert.Equal(JobStatus.Validated, record.Status);
        Assert.All(record.Assignments, a => Assert.Equal(AssignmentStatus.Reported, a.Status));
        Assert.Contains(record.Transitions, t => t.Reason.StartsWith("settling failed, retried until ", StringComparison.Ordinal));
        await AdvanceAsync(time, ComputeOptions.DefaultSettleTimeout + TimeSpan.FromSeconds(10));

        var job = await silo.WaitAsync(submitted.Id, TimeSpan.FromSeconds(30));
        Assert.Equal(expected, job.Status);
        Assert.True(job.FinishedAt - job.ValidatedAt <= ComputeOptions.DefaultSettleTimeout + JobStateMachine.TickPeriod(WallTime, ComputeOptions.DefaultDispatchGrace));
        if (expected == JobStatus.Failed)
        {
            Assert.Equal("validated, but settling failed for 00:10:00, so nothing was charged: InvalidOperationException: ledger unreachable", job.FailureReason);
        }
        else
        {
            Assert.Equal(failures + 1, settlement.Calls);
        }
    }

    [Fact]
    public async Task NodesStoppingAndStartingAtRandomUnderManyJobs_EveryJobIsFinalWithinTheLifetimeBound()
    {
        var seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with {SeedVariable}={seed})");
        var random = new Random(seed);
        var time = new ManualTimeProvider();
        var settings = new Dictionary<string, string?>
        {
            ["Xmbl:Compute:DispatchGrace"] = "00:00:05",
            ["Xmbl:Compute:PendingTimeout"] = "00:02:00",
            ["Xmbl:Compute:RoleWaitTimeout"] = "00:02:00",
            ["Xmbl:Compute:SettleTimeout"] = "00:02:00",
        };
        await using var silo = await ComputeSilo.StartAsync(nodes: 4, settings, time);
        var options = silo.Services.GetRequiredService<IOptions<ComputeOptions>>().Value;
        var nodes = silo.Services.GetRequiredService<LocalNodes>();
        var hash = await silo.UploadAsync("hello.wasm");

        // PendingTimeout + SettleTimeout + (1 + MaxTieBreakers) · MaxAttempts · (RoleWaitTimeout + wall time +
        // DispatchGrace + 2 ticks) + 2 ticks, a tick being max(1 s, (wall time + DispatchGrace) / 2): 25 min 10 s here.
        var bound = JobStateMachine.LifetimeBound(options, WallTime);
        output.WriteLine($"bound {bound}");
        var start = time.GetUtcNow();
        var open = new List<string>();
        var done = new List<JobRecord>();
        var toggles = 0;
        while (true)
        {
            var elapsed = time.GetUtcNow() - start;
            if (elapsed < Chaos)
            {
                if (random.NextDouble() < 0.4)
                {
                    var job = await silo.SubmitAsync(new JobRequest(hash, Validators: random.Next(3), WallTime: WallTime));
                    open.Add(job.Id);
                }

                if (random.NextDouble() < 0.1)
                {
                    var node = nodes.All[random.Next(nodes.All.Count)];
                    nodes.SetOnline(node, !nodes.IsOnline(node));
                    toggles++;
                }
            }
            else if (open.Count == 0 || elapsed > Chaos + bound + TimeSpan.FromMinutes(1))
            {
                break;
            }

            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(3);
            if ((int)elapsed.TotalSeconds % 5 == 0)
            {
                foreach (var id in open.ToList())
                {
                    if (await silo.Jobs.GetAsync(id) is { IsFinal: true } record)
                    {
                        done.Add(record);
                        open.Remove(id);
                    }
                }
            }
        }

        var outcome = string.Join(", ", done.GroupBy(j => j.Status).Select(g => $"{g.Count()} {g.Key}"));
        output.WriteLine($"{done.Count + open.Count} jobs, {toggles} node stops/starts: {outcome}");
        Assert.True(open.Count == 0, $"seed {seed}: {open.Count} job(s) never finished, e.g. {open.FirstOrDefault()}");
        Assert.NotEmpty(done);
        Assert.All(done, job =>
        {
            Assert.True(job.FinishedAt - job.CreatedAt <= bound, $"seed {seed}: job {job.Id} took {job.FinishedAt - job.CreatedAt}, over the bound {bound}");
            // The backstop never had to act: every state's own deadline ended the job.
            Assert.False(job.FailureReason?.StartsWith("not finished within", StringComparison.Ordinal) ?? false, $"seed {seed}: job {job.Id}: {job.FailureReason}");
        });
        foreach (var failed in done.Where(j => j.Status == JobStatus.Failed).Take(5))
        {
            output.WriteLine($"{failed.Id}: {failed.FailureReason}");
        }
    }

    /// <summary>The ledger's settlement, except that settling throws its first <c>failures</c> times, as an unreachable ledger would.</summary>
    private sealed class FlakySettlement(int failures) : IJobSettlement
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public IGrainFactory? Grains { get; set; }

        public Task<LedgerOutcome> HoldAsync(string account, string jobId, long amount, DateTimeOffset at) =>
            new LedgerSettlement(Grains!).HoldAsync(account, jobId, amount, at);

        public Task<EscrowOutcome> SettleAsync(string account, EscrowSettlement settlement) =>
            Interlocked.Increment(ref _calls) <= failures
                ? throw new InvalidOperationException("ledger unreachable")
                : new LedgerSettlement(Grains!).SettleAsync(account, settlement);
    }

    /// <summary>Moves the clock a second at a time, letting the silo's loops run between steps.</summary>
    private static async Task AdvanceAsync(ManualTimeProvider time, TimeSpan by)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += TimeSpan.FromSeconds(1))
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(3);
        }
    }
}
