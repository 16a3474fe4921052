using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Nodes;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Jobs hold their maximum price in the submitter's account and pay their nodes from it, in a real silo.</summary>
public sealed class EscrowTests
{
    [Fact]
    public async Task ValidatedJob_PaysBothNodesTheirFuelAtTheirPrice_RefundsTheRest_AndConservesTheSupply()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var hash = await silo.UploadAsync("hello.wasm");

        var job = await silo.WaitAsync((await silo.SubmitAsync(new JobRequest(hash, Validators: 1))).Id);

        Assert.Equal(JobStatus.Settled, job.Status);
        var escrow = job.Escrow!;
        Assert.True(escrow.Settled);
        Assert.Equal(2 * 10_000_000_000L / 100, escrow.Held); // 2 runs x default fuel x the default price of 0.01 xmbl.c per million fuel
        Assert.Equal(2, escrow.Payouts.Count);
        Assert.All(escrow.Payouts, p => Assert.Equal(JobEscrowRules.Cost(job.Result!.Fuel, 0.01m), p.Amount));
        Assert.Equal(escrow.Held, escrow.Payouts.Sum(p => p.Amount) + escrow.Refunded);
        Assert.Contains(job.Transitions, t => t.To == JobStatus.Settled && t.Reason.StartsWith("escrow of 200.000000 xmbl.c settled: ", StringComparison.Ordinal));
        await AssertConservedAsync(silo, escrow.Payouts.Sum(p => p.Amount));
    }

    [Fact]
    public async Task DisputedJob_PaysTheMajority_TheOutvotedNodeGetsNothing()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 3, new Dictionary<string, string?> { ["Xmbl:Compute:LyingNodes:0"] = "0" });
        var liar = silo.Services.GetRequiredService<LocalNodes>().All[0].Id;
        var hash = await silo.UploadAsync("hello.wasm");

        // Three nodes and two validators: every node runs each job; the liar lies when it executes. Rounds of two jobs
        // at once fill every slot, so the liar executes some whatever the ranking.
        JobRecord? caught = null;
        long paid = 0;
        for (var round = 0; round < 10 && caught is null; round++)
        {
            var submitted = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => silo.SubmitAsync(new JobRequest(hash, Validators: 2))));
            foreach (var job in await Task.WhenAll(submitted.Select(j => silo.WaitAsync(j.Id))))
            {
                Assert.Equal(JobStatus.Settled, job.Status);
                var escrow = job.Escrow!;
                Assert.Equal(escrow.Held, escrow.Payouts.Sum(p => p.Amount) + escrow.Refunded);
                Assert.Equal(job.Assignments.Where(a => a.Agreed == true).Select(a => a.NodeId).Order(), escrow.Payouts.Select(p => p.NodeId).Order());
                paid += escrow.Payouts.Sum(p => p.Amount);
                if (job.Transitions.Any(t => t.To == JobStatus.Disputed))
                {
                    caught = job;
                }
            }
        }

        Assert.NotNull(caught);
        Assert.Equal(2, caught.Escrow!.Payouts.Count);
        Assert.DoesNotContain(caught.Escrow.Payouts, p => p.NodeId == liar);
        Assert.False(caught.Assignments.Single(a => a.NodeId == liar).Agreed);
        await AssertConservedAsync(silo, paid);
    }

    [Fact]
    public async Task CancelledJob_WhoseRunsHadNotReported_RefundsTheWholeHold()
    {
        using var runner = new ScriptedRunner();
        await using var silo = await ComputeSilo.StartAsync(nodes: 2, services: s => s.AddSingleton<IJobRunner>(runner));
        var hash = await silo.UploadAsync("hello.wasm");
        var submitted = await silo.SubmitAsync(new JobRequest(hash, Args: ["hold"], Validators: 1));
        var account = silo.Grains.GetGrain<IAccountGrain>(silo.Submitter);
        Assert.Equal(submitted.Escrow!.Held, (await account.GetAsync()).Held);

        await silo.Jobs.CancelAsync(submitted.Id, "changed my mind");
        await silo.WaitAsync(submitted.Id);
        runner.ReleaseHeld();
        var job = await EscrowSettledAsync(silo, submitted.Id);

        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.Empty(job.Escrow!.Payouts);
        Assert.Equal(job.Escrow.Held, job.Escrow.Refunded);
        await AssertConservedAsync(silo, 0);
    }

    [Fact]
    public async Task FailedJob_RefundsTheWholeHold_AndPaysNoNode()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 3);
        var hash = await silo.UploadAsync("hello.wasm");
        // A null argument makes every node's runner throw: the job fails as its own fault.
        var spec = new JobSpec(hash, JobSpec.WasiStart, [null!], [], [], new JobLimits(1_000_000_000, 16, TimeSpan.FromSeconds(30)), null, 1, [], null, silo.Submitter);
        var id = JobIds.New(DateTimeOffset.UtcNow);

        await silo.Grains.GetGrain<IJobGrain>(id).SubmitAsync(spec);
        await silo.WaitAsync(id);
        var job = await EscrowSettledAsync(silo, id);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.True(job.Escrow!.Settled);
        Assert.Empty(job.Escrow.Payouts);
        Assert.Equal(job.Escrow.Held, job.Escrow.Refunded);
        await AssertConservedAsync(silo, 0);
    }

    [Fact]
    public async Task SubmitterWithoutFunds_IsRefusedWithItsBalance_AndNothingIsQueued()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 2);
        var hash = await silo.UploadAsync("hello.wasm");
        var poor = Ledger.LedgerSilo.NewAccount();
        await silo.Grains.GetGrain<IAccountGrain>(poor).MintAsync(5_000_000, 1, DateTimeOffset.UtcNow);

        var refused = await Assert.ThrowsAsync<InsufficientFundsException>(() => silo.Jobs.SubmitAsync(new JobRequest(hash, Validators: 1, Submitter: poor)));

        Assert.Equal(5_000_000, refused.Account.Balance);
        Assert.Equal(200_000_000, refused.Hold);
        var account = await silo.Grains.GetGrain<IAccountGrain>(poor).GetAsync();
        Assert.Equal((5_000_000L, 0L, 0), (account.Balance, account.Held, account.Holds));
        Assert.Empty((await silo.Jobs.ListAsync(new JobQuery(Submitter: poor), default)).Items);

        // A price low enough fits the balance.
        var cheap = await silo.WaitAsync((await silo.Jobs.SubmitAsync(new JobRequest(hash, Validators: 1, Fuel: 100_000_000, Submitter: poor))).Id);
        Assert.Equal(JobStatus.Settled, cheap.Status);
    }

    [Fact]
    public async Task HoldWhoseJobWasNeverCreated_IsRefundedWhenTheJobIsAsked()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var id = JobIds.New(DateTimeOffset.UtcNow);
        var account = silo.Grains.GetGrain<IAccountGrain>(silo.Submitter);
        await account.HoldAsync(id, 1_000, DateTimeOffset.UtcNow);
        Assert.Equal(1_000, (await account.GetAsync()).Held);

        // What the account's reminder does for old holds; the job never stored, so the whole hold comes back.
        await silo.Grains.GetGrain<IJobGrain>(id).SettleEscrowAsync(silo.Submitter);

        var after = await Eventually(account, a => a.Held == 0);
        Assert.Equal(ComputeSilo.Funds, after.Balance);
        Assert.Null(await silo.Grains.GetGrain<IJobGrain>(id).GetAsync());
    }

    [Fact]
    public async Task SettlingAHoldTwice_PaysOnce()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var account = silo.Grains.GetGrain<IAccountGrain>(silo.Submitter);
        var payee = Ledger.LedgerSilo.NewAccount();
        await account.HoldAsync("job-1", 10_000, DateTimeOffset.UtcNow);
        var settlement = new EscrowSettlement("job-1", [new EscrowPayout(payee, 4_000, "node", 1)], DateTimeOffset.UtcNow);

        var first = await account.SettleHoldAsync(settlement);
        var second = await account.SettleHoldAsync(settlement);

        Assert.Equal((10_000L, 4_000L, 6_000L, false), (first.Held, first.Paid, first.Refunded, first.AlreadySettled));
        Assert.True(second.AlreadySettled);
        Assert.Equal(4_000, (await silo.Grains.GetGrain<IAccountGrain>(payee).GetAsync()).Balance);
        Assert.Equal(ComputeSilo.Funds - 4_000, (await account.GetAsync()).Balance);
    }

    /// <summary>Once every credit is delivered: the submitter has no hold, has paid exactly <paramref name="paid"/>, and the nodes hold the rest of the supply.</summary>
    private static async Task AssertConservedAsync(ComputeSilo silo, long paid)
    {
        var submitter = await Eventually(silo.Grains.GetGrain<IAccountGrain>(silo.Submitter), a => a.Held == 0 && a.PendingOut == 0);
        Assert.Equal(ComputeSilo.Funds - paid, submitter.Balance);
        long nodes = 0;
        foreach (var node in silo.Services.GetRequiredService<LocalNodes>().All)
        {
            var account = await silo.Grains.GetGrain<IAccountGrain>(node.Id).GetAsync();
            Assert.Equal(0, account.Held + account.PendingOut);
            nodes += account.Balance;
        }

        Assert.Equal(ComputeSilo.Funds, submitter.Balance + nodes);
    }

    private static async Task<AccountSnapshot> Eventually(IAccountGrain account, Func<AccountSnapshot, bool> done)
    {
        var snapshot = await account.GetAsync();
        for (var i = 0; i < 200 && !done(snapshot); i++)
        {
            await Task.Delay(25);
            snapshot = await account.GetAsync();
        }

        Assert.True(done(snapshot), $"account {snapshot.Account}: {snapshot}");
        return snapshot;
    }

    /// <summary>
    /// The job once its escrow is settled: a failed or cancelled job is final first and settles its escrow right after
    /// (on its own tick when a try fails), so a test reading it the moment it became final can be early.
    /// </summary>
    private static async Task<JobRecord> EscrowSettledAsync(ComputeSilo silo, string id)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var job = await silo.Jobs.GetAsync(id);
            if (job?.Escrow is { Settled: true } || DateTime.UtcNow > until)
            {
                return job!;
            }

            await Task.Delay(50);
        }
    }
}
