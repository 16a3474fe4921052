using System.Text;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Who a final job pays from its hold (docs/jobs.md, "Escrow"), over the state machine alone.</summary>
[Trait("Suite", "BVT")]
public sealed class JobEscrowRulesTests
{
    private const string JobId = "0190000000000-aaaaaaaaaaaa";
    private const decimal Price = 2m; // FakePlacement's price per million fuel
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly FakePlacement _placement = new("n1", "n2", "n3", "n4");
    private readonly ComputeOptions _options = new() { MaxAttempts = 2, MaxTieBreakers = 1, DispatchGrace = TimeSpan.FromSeconds(5) };
    private readonly JobGrainState _state = new();
    private readonly JobStateMachine _machine;

    public JobEscrowRulesTests()
    {
        _machine = new JobStateMachine(_placement, new RecordingEffects(), _options);
    }

    [Fact]
    public void Hold_IsOneRunPerNodeAskedFor_AtTheWholeFuelLimitAndTheMaximumPrice()
    {
        Assert.Equal(2 * 1_000_000_000L * 2, JobEscrowRules.Hold(Spec(validators: 1)));
        Assert.Equal(3 * 1_000_000_000L * 2, JobEscrowRules.Hold(Spec(validators: 2)));
        Assert.Equal(0, JobEscrowRules.Hold(Spec(validators: 1) with { MaxPricePerMillionFuel = 0m }));
        Assert.Equal(long.MaxValue, JobEscrowRules.Hold(Spec(validators: 2) with { MaxPricePerMillionFuel = decimal.MaxValue / 2 }));
    }

    [Fact]
    public void Validated_PaysEachAgreeingNodeItsFuelAtItsPrice()
    {
        Submit(validators: 1);
        _machine.Report(_state, Report(1, "n1", "ok", fuel: 1000), T0);
        _machine.Report(_state, Report(2, "n2", "ok", fuel: 1000), T0);

        Assert.Equal(JobStatus.Validated, _state.Status);
        AssertPaid(("n1", 2000), ("n2", 2000));
    }

    [Fact]
    public void Disputed_PaysTheMajority_AndNotTheOutvotedNode()
    {
        Submit(validators: 1);
        _machine.Report(_state, Report(1, "n1", "right"), T0);
        _machine.Report(_state, Report(2, "n2", "wrong"), T0);
        Assert.Equal(JobStatus.Disputed, _state.Status);
        _machine.Report(_state, Report(3, "n3", "right"), T0);

        Assert.Equal(JobStatus.Validated, _state.Status);
        AssertPaid(("n1", 2000), ("n3", 2000));
    }

    [Fact]
    public void TimedOut_TheSilentNodeIsNotPaid_TheNodeThatProducedTheResultIs()
    {
        Submit(validators: 0);
        _machine.Tick(_state, T0.AddSeconds(16));
        Assert.Equal(AssignmentStatus.TimedOut, _state.Assignments[0].Status);
        _machine.Report(_state, Report(2, "n2", "ok", fuel: 5000), T0.AddSeconds(17));

        Assert.Equal(JobStatus.Validated, _state.Status);
        AssertPaid(("n2", 10_000));
    }

    [Fact]
    public void RunCutOffAtTheWallClock_IsPaidItsReportedFuel_OnceAnotherNodesResultIsAccepted()
    {
        Submit(validators: 0);
        _machine.Report(_state, Report(1, "n1", "", fuel: 700, outcome: RunOutcome.WallTimeExceeded), T0);
        _machine.Report(_state, Report(2, "n2", "ok", fuel: 1000), T0);

        Assert.Equal(JobStatus.Validated, _state.Status);
        AssertPaid(("n2", 2000), ("n1", 1400));
    }

    [Fact]
    public void Failed_PaysNobody_EvenNodesThatRanAndWereCutOff()
    {
        Submit(validators: 0);
        _machine.Report(_state, Report(1, "n1", "", fuel: 700, outcome: RunOutcome.WallTimeExceeded), T0);
        _machine.Report(_state, Report(2, "n2", "", fuel: 700, outcome: RunOutcome.WallTimeExceeded), T0);

        Assert.Equal(JobStatus.Failed, _state.Status);
        AssertPaid();
    }

    [Fact]
    public void Cancelled_PaysTheNodesThatHadReported_AndNotTheOnesStillRunning()
    {
        Submit(validators: 1);
        _machine.Report(_state, Report(1, "n1", "ok", fuel: 300), T0);
        _machine.Cancel(_state, "cancelled by the submitter", T0);

        Assert.Equal(JobStatus.Cancelled, _state.Status);
        AssertPaid(("n1", 600));
    }

    [Fact]
    public void Payouts_NeverAddUpToMoreThanTheHold()
    {
        Submit(validators: 1);
        _machine.Report(_state, Report(1, "n1", "ok", fuel: 1000), T0);
        _machine.Report(_state, Report(2, "n2", "ok", fuel: 1000), T0);

        var payouts = JobEscrowRules.Payouts(_state, 2500);

        Assert.Equal([("n1", 2000L), ("n2", 500L)], payouts.Select(p => (p.NodeId, p.Amount)));
    }

    [Fact]
    public void Payee_IsTheOperatorsAccount_WhenTheOperatorIsADidKey_ElseTheNode()
    {
        var operatorAccount = Ledger.LedgerSilo.NewAccount();

        Assert.Equal(operatorAccount, JobEscrowRules.Payee("did:key:node", operatorAccount));
        Assert.Equal("did:key:node", JobEscrowRules.Payee("did:key:node", "build-machine-7"));
    }

    private void AssertPaid(params (string Node, long Amount)[] expected)
    {
        var hold = JobEscrowRules.Hold(_state.Spec!);
        var payouts = JobEscrowRules.Payouts(_state, hold);
        Assert.Equal(expected, payouts.Select(p => (p.NodeId, p.Amount)));
        Assert.True(payouts.Sum(p => p.Amount) <= hold);
        Assert.All(payouts, p => Assert.Equal(p.NodeId, p.Payee));
    }

    private void Submit(int validators) => _machine.Submit(_state, JobId, Spec(validators), T0);

    private static JobSpec Spec(int validators) =>
        new(new string('a', 64), JobSpec.WasiStart, [], [], [], new JobLimits(1_000_000_000, 16, TimeSpan.FromSeconds(10)), Price, validators, [], null, null);

    private static ExecutionReport Report(int assignment, string node, string output, long fuel = 1000, RunOutcome outcome = RunOutcome.Exited)
    {
        var bytes = Encoding.UTF8.GetBytes(output);
        return new ExecutionReport(assignment, node, ResultHash.Compute(bytes, 0, fuel, outcome), bytes, 0, fuel, outcome, null, TimeSpan.FromMilliseconds(3));
    }
}
