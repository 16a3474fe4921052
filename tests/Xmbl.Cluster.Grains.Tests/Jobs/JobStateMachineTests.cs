using System.Text;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

[Trait("Suite", "BVT")]
public sealed class JobStateMachineTests
{
    private const string JobId = "0190000000000-aaaaaaaaaaaa";
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly FakePlacement _placement = new("n1", "n2", "n3", "n4");
    private readonly RecordingEffects _effects = new();
    private readonly ComputeOptions _options = new() { MaxAttempts = 2, MaxTieBreakers = 1, DispatchGrace = TimeSpan.FromSeconds(5) };
    private readonly JobGrainState _state = new();
    private readonly JobStateMachine _machine;

    public JobStateMachineTests()
    {
        _machine = new JobStateMachine(_placement, _effects, _options);
    }

    [Fact]
    public void Submit_WithFreeNodes_AssignsExecutorAndValidatorsToDistinctNodes()
    {
        Submit(validators: 2);

        Assert.Equal(JobStatus.Scheduled, _state.Status);
        Assert.Equal(["n1", "n2", "n3"], _state.Assignments.Select(a => a.NodeId));
        Assert.Equal([JobRole.Executor, JobRole.Validator, JobRole.Validator], _state.Assignments.Select(a => a.Role));
        Assert.Equal(3, _effects.Dispatched.Count);
        Assert.All(_state.Assignments, a => Assert.Equal(T0 + TimeSpan.FromSeconds(10) + _options.DispatchGrace, a.Deadline));
        // Each placement excludes every node already on the job: a validator is never the executor.
        Assert.Contains("n1", _placement.Requests[1].ExcludedNodes);
        Assert.Equal([JobStatus.Pending, JobStatus.Scheduled], Statuses());
        Assert.Contains(_state.Transitions, t => t.Reason == "validator assigned" && t.NodeId == "n3");
    }

    [Fact]
    public void Submit_WithValidators_AsksForValidatorsOnTheExecutorsEngine()
    {
        Submit(validators: 2);

        // Result hashes include fuel, which each engine counts its own way: validators run the executor's engine.
        Assert.Null(_placement.Requests[0].SameEngineAs);
        Assert.Equal("n1", _placement.Requests[1].SameEngineAs);
        Assert.Equal("n1", _placement.Requests[2].SameEngineAs);
    }

    [Fact]
    public void Submit_WithNoFreeNode_StaysPendingAndWaitsForASlot()
    {
        _placement.SlotsPerNode = 0;

        Submit(validators: 1);

        Assert.Equal(JobStatus.Pending, _state.Status);
        Assert.Empty(_state.Assignments);
        Assert.Equal([JobId], _placement.Pending);
    }

    [Fact]
    public void TrySchedule_PendingJobAfterSlotsFree_Schedules()
    {
        _placement.SlotsPerNode = 0;
        Submit(validators: 1);
        _placement.SlotsPerNode = 1;

        var done = _machine.TrySchedule(_state, T0.AddSeconds(1));

        Assert.True(done);
        Assert.Equal(JobStatus.Scheduled, _state.Status);
        Assert.Equal(T0.AddSeconds(1), _state.ScheduledAt);
        Assert.Equal(2, _state.Assignments.Count);
    }

    [Fact]
    public void Report_ExecutorAndAgreeingValidator_ValidatesThroughEveryStateAndRewardsBoth()
    {
        Submit(validators: 1);

        Assert.True(_machine.Report(_state, Report(1, "n1", "42\n"), T0.AddSeconds(1)));
        Assert.Equal(JobStatus.Validating, _state.Status);
        Assert.True(_machine.Report(_state, Report(2, "n2", "42\n"), T0.AddSeconds(2)));

        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Equal(
            [JobStatus.Pending, JobStatus.Scheduled, JobStatus.Executed, JobStatus.Validating, JobStatus.Validated],
            Statuses());
        Assert.Equal("42\n", Encoding.UTF8.GetString(_state.Output!));
        Assert.Equal("n1", _state.Result!.NodeId);
        Assert.Equal((1, 0, 0), _effects.Reputation["n1"]);
        Assert.Equal((1, 0, 0), _effects.Reputation["n2"]);
        Assert.All(_state.Assignments, a => Assert.Null(a.Output));
        Assert.Equal(T0.AddSeconds(1), _state.ExecutedAt);
        Assert.Equal(T0.AddSeconds(2), _state.ValidatedAt);
    }

    [Fact]
    public void Report_ValidatorFirst_IsKeptAndDecidedWhenTheExecutorReports()
    {
        Submit(validators: 1);

        Assert.True(_machine.Report(_state, Report(2, "n2", "x"), T0.AddSeconds(1)));
        Assert.Equal(JobStatus.Scheduled, _state.Status);
        Assert.True(_machine.Report(_state, Report(1, "n1", "x"), T0.AddSeconds(2)));

        Assert.Equal(JobStatus.Validated, _state.Status);
    }

    [Fact]
    public void Report_PriceIsFuelTimesThePaidNodesPricePerMillion()
    {
        Submit(validators: 0);

        _machine.Report(_state, Report(1, "n1", "ok", fuel: 3_000_000), T0.AddSeconds(1));

        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Equal(6m, _state.Price);
        Assert.Equal("no validation requested", _state.Transitions[^1].Reason);
        // A single report was compared with nothing, so no reputation moves.
        Assert.Empty(_effects.Reputation);
    }

    [Fact]
    public void Report_ValidatorDisagrees_DisputesAndATieBreakerOutvotesTheLyingExecutor()
    {
        Submit(validators: 1);
        _machine.Report(_state, Report(1, "n1", "lie"), T0.AddSeconds(1));

        _machine.Report(_state, Report(2, "n2", "truth"), T0.AddSeconds(2));

        Assert.Equal(JobStatus.Disputed, _state.Status);
        var tieBreaker = Assert.Single(_state.Assignments, a => a.Role == JobRole.TieBreaker);
        Assert.Equal("n3", tieBreaker.NodeId);
        Assert.Equal(JobRole.TieBreaker, _effects.Dispatched[^1].Role);

        _machine.Report(_state, Report(3, "n3", "truth"), T0.AddSeconds(3));

        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Equal("truth", Encoding.UTF8.GetString(_state.Output!));
        Assert.Equal("n2", _state.Result!.NodeId);
        Assert.Equal((0, 1, 0), _effects.Reputation["n1"]);
        Assert.Equal((1, 0, 0), _effects.Reputation["n2"]);
        Assert.Equal((1, 0, 0), _effects.Reputation["n3"]);
        Assert.False(_state.Assignments.Single(a => a.NodeId == "n1").Agreed);
        Assert.Contains(JobStatus.Disputed, _state.Transitions.Select(t => t.To));
    }

    [Fact]
    public void Report_TwoValidatorsOutvoteTheExecutor_DecidesWithoutTieBreaker()
    {
        Submit(validators: 2);

        _machine.Report(_state, Report(1, "n1", "lie"), T0.AddSeconds(1));
        _machine.Report(_state, Report(2, "n2", "truth"), T0.AddSeconds(1));
        _machine.Report(_state, Report(3, "n3", "truth"), T0.AddSeconds(1));

        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.DoesNotContain(_state.Assignments, a => a.Role == JobRole.TieBreaker);
        Assert.Equal((0, 1, 0), _effects.Reputation["n1"]);
        Assert.Equal([JobStatus.Validating, JobStatus.Disputed, JobStatus.Validated], _state.Transitions.TakeLast(3).Select(t => t.To));
    }

    [Fact]
    public void Report_NoMajorityAfterTheLastTieBreaker_Fails()
    {
        Submit(validators: 1);
        _machine.Report(_state, Report(1, "n1", "a"), T0);
        _machine.Report(_state, Report(2, "n2", "b"), T0);

        _machine.Report(_state, Report(3, "n3", "c"), T0);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Contains("no majority", _state.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_HashThatDoesNotMatchTheContent_IsRefused()
    {
        Submit(validators: 0);
        var report = Report(1, "n1", "out") with { ResultHash = new string('0', 64) };

        Assert.False(_machine.Report(_state, report, T0));
        Assert.Equal(JobStatus.Scheduled, _state.Status);
    }

    [Fact]
    public void Report_FromAnotherNodeOrForAClosedAssignment_IsRefused()
    {
        Submit(validators: 0);

        Assert.False(_machine.Report(_state, Report(1, "n2", "x"), T0));
        Assert.False(_machine.Report(_state, Report(7, "n1", "x"), T0));
        Assert.True(_machine.Report(_state, Report(1, "n1", "x"), T0));
        Assert.False(_machine.Report(_state, Report(1, "n1", "x"), T0));
    }

    [Fact]
    public void Tick_AfterTheDeadline_TimesOutAndReschedulesOnAnotherNode()
    {
        Submit(validators: 0);

        _machine.Tick(_state, T0.AddSeconds(16));

        Assert.Equal(AssignmentStatus.TimedOut, _state.Assignments[0].Status);
        var retry = _state.Assignments[1];
        Assert.Equal(("n2", JobRole.Executor, 0), (retry.NodeId, retry.Role, retry.Slot));
        Assert.Equal(JobStatus.Scheduled, _state.Status);
        Assert.Contains("rescheduled", _state.Transitions[^1].Reason, StringComparison.Ordinal);
        Assert.Contains(_placement.Released, r => r.NodeId == "n1");
        // Not yet known to be the node's fault rather than the job's.
        Assert.Empty(_effects.Reputation);

        // The late report of the first node no longer counts; the new executor's does.
        Assert.False(_machine.Report(_state, Report(1, "n1", "x"), T0.AddSeconds(17)));
        Assert.True(_machine.Report(_state, Report(2, "n2", "x"), T0.AddSeconds(17)));
        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Equal((0, 0, 1), _effects.Reputation["n1"]);
    }

    [Fact]
    public void Tick_BeforeTheDeadline_ChangesNothing()
    {
        Submit(validators: 1);

        _machine.Tick(_state, T0.AddSeconds(14));

        Assert.All(_state.Assignments, a => Assert.Equal(AssignmentStatus.Assigned, a.Status));
        Assert.Equal(2, _state.Assignments.Count);
    }

    [Fact]
    public void Tick_WhenEveryAttemptTimedOut_FailsWithTheReason()
    {
        Submit(validators: 0);
        _machine.Tick(_state, T0.AddSeconds(16));

        _machine.Tick(_state, T0.AddSeconds(40));

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Contains("executor timed out on 2 node(s)", _state.FailureReason, StringComparison.Ordinal);
        Assert.NotNull(_state.FinishedAt);
        // It timed out on every node it was given to: the job's fault, so no node pays.
        Assert.Empty(_effects.Reputation);
    }

    [Fact]
    public void Report_WallTimeExceeded_IsNoResultAndMovesTheRoleToAnotherNode()
    {
        Submit(validators: 0);
        var report = Report(1, "n1", "", outcome: RunOutcome.WallTimeExceeded);

        Assert.True(_machine.Report(_state, report, T0.AddSeconds(10)));

        Assert.Equal(AssignmentStatus.TimedOut, _state.Assignments[0].Status);
        Assert.Equal("n2", _state.Assignments[1].NodeId);
        Assert.Equal(JobStatus.Scheduled, _state.Status);

        // Wall time is machine-dependent, so it costs the node nothing even when another node finishes in time.
        _machine.Report(_state, Report(2, "n2", "x"), T0.AddSeconds(11));
        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Empty(_effects.Reputation);
    }

    [Fact]
    public void Report_WallTimeExceeded_RecordsTheNodeTimeAndFuelOfTheAttempt()
    {
        Submit(validators: 0);
        var report = Report(1, "n1", "", fuel: 777, outcome: RunOutcome.WallTimeExceeded) with { Duration = TimeSpan.FromSeconds(10.2) };

        Assert.True(_machine.Report(_state, report, T0.AddSeconds(11)));

        var attempt = JobStateMachine.ToRecord(_state).Assignments[0];
        Assert.Equal((AssignmentStatus.TimedOut, TimeSpan.FromSeconds(10.2), 777L), (attempt.Status, attempt.NodeTime, attempt.Fuel));
    }

    [Fact]
    public void RunsCutOffAtTheWallClock_StopAtTheNodeTimeBudget_NotAtTheAttemptLimit()
    {
        _options.MaxAttempts = 10;
        _options.NodeTimeBudget = 3;
        _placement.Add("n5");
        Submit(validators: 0);

        // Each attempt runs its full 10 s and is cut off: the third makes 30 s, and a fourth could make 40 s.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var node = _state.Assignments[^1].NodeId;
            Assert.True(_machine.Report(_state, Report(attempt, node, "", outcome: RunOutcome.WallTimeExceeded) with { Duration = TimeSpan.FromSeconds(10) }, T0.AddSeconds(11 * attempt)));
        }

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Equal(3, _state.Assignments.Count);
        Assert.StartsWith("node-time budget used: 30 s", _state.FailureReason, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(30), TimeSpan.FromTicks(JobStateMachine.ToRecord(_state).Assignments.Sum(a => a.NodeTime!.Value.Ticks)));
    }

    [Fact]
    public void Recover_CountsEachRestartOnce_AndFailsThePoisonousJobAtTheLimit()
    {
        Submit(validators: 1);

        Assert.NotNull(_machine.Recover(_state, 1, "n1", "start-1", T0.AddSeconds(1)));
        Assert.NotNull(_machine.Recover(_state, 2, "n2", "start-1", T0.AddSeconds(1)));
        Assert.Equal(1, _state.Restarts);
        Assert.Null(_machine.Recover(_state, 1, "n2", "start-2", T0.AddSeconds(2)));
        Assert.Equal(1, _state.Restarts);

        Assert.Null(_machine.Recover(_state, 1, "n1", "start-2", T0.AddSeconds(2)));

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.StartsWith("poisonous: crashed or hung the node on 2 restarts", _state.FailureReason, StringComparison.Ordinal);
        Assert.Empty(_effects.Reputation);
        Assert.Null(_machine.Recover(_state, 2, "n2", "start-3", T0.AddSeconds(3)));
    }

    [Fact]
    public void Report_OutOfFuelAgreedByTheValidator_IsValidatedPricedAndExplained()
    {
        Submit(validators: 1);

        _machine.Report(_state, Report(1, "n1", "looping\n", exitCode: ExitCodes.Trapped, fuel: 1_000_000, outcome: RunOutcome.OutOfFuel), T0);
        _machine.Report(_state, Report(2, "n2", "looping\n", exitCode: ExitCodes.Trapped, fuel: 1_000_000, outcome: RunOutcome.OutOfFuel), T0);

        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Equal(RunOutcome.OutOfFuel, _state.Result!.Outcome);
        Assert.Equal(2m, _state.Price);
        Assert.StartsWith("fuel exhausted", _state.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Tick_PendingLongerThanThePendingTimeout_Fails()
    {
        _placement.SlotsPerNode = 0;
        Submit(validators: 0);

        _machine.Tick(_state, T0 + _options.PendingTimeout);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Contains("no eligible node", _state.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancel_OpenJob_CancelsAndFreesEverySlot()
    {
        Submit(validators: 1);

        _machine.Cancel(_state, "changed my mind", T0.AddSeconds(1));

        Assert.Equal(JobStatus.Cancelled, _state.Status);
        Assert.All(_state.Assignments, a => Assert.Equal(AssignmentStatus.Cancelled, a.Status));
        Assert.Equal(2, _placement.Released.Count);
        Assert.False(_machine.Report(_state, Report(1, "n1", "x"), T0.AddSeconds(2)));
    }

    [Fact]
    public void Settle_ValidatedJob_IsFinal()
    {
        Submit(validators: 0);
        _machine.Report(_state, Report(1, "n1", "x"), T0);

        _machine.Settle(_state, "charged", T0.AddSeconds(1));

        var record = JobStateMachine.ToRecord(_state);
        Assert.Equal(JobStatus.Settled, record.Status);
        Assert.True(record.IsFinal);
        Assert.Equal(T0.AddSeconds(1), record.FinishedAt);
        Assert.Equal("n1", record.Executor);
    }

    [Fact]
    public void Settle_JobNotValidated_Throws()
    {
        Submit(validators: 0);

        Assert.Throws<InvalidOperationException>(() => _machine.Settle(_state, "charged", T0));
    }

    [Fact]
    public void ReportError_SameReasonOnTwoNodes_FailsTheJobAsItsOwnFaultAndNoNodeLosesReputation()
    {
        Submit(validators: 0);

        Assert.True(_machine.ReportError(_state, new RunErrorReport(1, "n1", "NullReferenceException: args[0]"), T0.AddSeconds(1)));
        Assert.Equal((JobStatus.Scheduled, AssignmentStatus.Failed), (_state.Status, _state.Assignments[0].Status));
        Assert.Equal("n2", _state.Assignments[1].NodeId);
        Assert.True(_machine.ReportError(_state, new RunErrorReport(2, "n2", "NullReferenceException: args[0]"), T0.AddSeconds(2)));

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Equal("the job fails the same way on 2 nodes (n1, n2), so the fault is the job's: NullReferenceException: args[0]", _state.FailureReason);
        Assert.Empty(_effects.Reputation);
        Assert.Equal(2, _placement.Released.Count);
    }

    [Fact]
    public void ReportError_ThenAnotherNodeRunsTheJob_ValidatesAndCostsTheFailingNodeLikeATimeout()
    {
        Submit(validators: 1);

        _machine.ReportError(_state, new RunErrorReport(1, "n1", "IOException: disk full"), T0.AddSeconds(1));
        var retry = Assert.Single(_state.Assignments, a => a.Role == JobRole.Executor && a.Status == AssignmentStatus.Assigned);
        Assert.Equal("n3", retry.NodeId);
        Assert.Contains(_state.Transitions, t => t.Reason == "executor rescheduled (attempt 2): IOException: disk full");
        _machine.Report(_state, Report(2, "n2", "ok"), T0.AddSeconds(2));
        _machine.Report(_state, Report(3, "n3", "ok"), T0.AddSeconds(3));

        Assert.Equal(JobStatus.Validated, _state.Status);
        Assert.Equal((0, 0, 1), _effects.Reputation["n1"]);
        Assert.Equal((1, 0, 0), _effects.Reputation["n2"]);
    }

    [Fact]
    public void ReportError_DifferentReasonsOnEveryAttempt_FailsAtMaxAttemptsWithoutBlamingANode()
    {
        Submit(validators: 0);

        _machine.ReportError(_state, new RunErrorReport(1, "n1", "a"), T0);
        _machine.ReportError(_state, new RunErrorReport(2, "n2", "b"), T0);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Equal("executor got no result from 2 node(s), the limit (last: b)", _state.FailureReason);
        Assert.Empty(_effects.Reputation);
    }

    [Fact]
    public void ReportError_FromAnotherNodeOrForAClosedAssignment_IsRefusedAndLongReasonsAreCut()
    {
        Submit(validators: 0);

        Assert.False(_machine.ReportError(_state, new RunErrorReport(1, "n2", "x"), T0));
        Assert.False(_machine.ReportError(_state, new RunErrorReport(9, "n1", "x"), T0));
        Assert.True(_machine.ReportError(_state, new RunErrorReport(1, "n1", new string('x', 100_000)), T0));
        Assert.False(_machine.ReportError(_state, new RunErrorReport(1, "n1", "x"), T0));
        Assert.Equal(JobStateMachine.MaxErrorLength, _state.Assignments[0].Detail!.Length);
    }

    [Fact]
    public void Report_ExecutorWhileAValidatorSlotHasNoNode_SaysTheValidatorWaitsForANode()
    {
        var machine = new JobStateMachine(new FakePlacement("n1"), _effects, _options);
        machine.Submit(_state, JobId, Spec(validators: 1), T0);

        machine.Report(_state, Report(1, "n1", "x"), T0.AddSeconds(1));

        Assert.Equal(JobStatus.Validating, _state.Status);
        Assert.Equal("waiting for validators: 1 waiting for a node", _state.Transitions[^1].Reason);
    }

    [Fact]
    public void Tick_ValidatorTimedOutAndNoNodeLeft_FailsAfterRoleWaitTimeoutWithTheTrueReason()
    {
        var machine = new JobStateMachine(new FakePlacement("n1", "n2"), _effects, _options);
        machine.Submit(_state, JobId, Spec(validators: 1), T0);
        machine.Report(_state, Report(1, "n1", "x"), T0.AddSeconds(1));
        var timedOut = T0.AddSeconds(16);
        machine.Tick(_state, timedOut);
        Assert.Equal(AssignmentStatus.TimedOut, _state.Assignments[1].Status);

        machine.Tick(_state, timedOut + _options.RoleWaitTimeout - TimeSpan.FromSeconds(1));
        Assert.Equal(JobStatus.Validating, _state.Status);
        machine.Tick(_state, timedOut + _options.RoleWaitTimeout);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Equal(
            $"no eligible node for validator slot 1 within 00:10:00: nodes n1, n2 already on the job; its last node: no report by {_state.Assignments[1].Deadline:O}",
            _state.FailureReason);
    }

    [Fact]
    public void Tick_ExecutorTimedOutAndNoNodeLeft_FailsAfterRoleWaitTimeoutInsteadOfStayingScheduled()
    {
        var machine = new JobStateMachine(new FakePlacement("n1", "n2"), _effects, _options);
        machine.Submit(_state, JobId, Spec(validators: 1), T0);
        machine.Report(_state, Report(2, "n2", "x"), T0.AddSeconds(1));
        machine.Tick(_state, T0.AddSeconds(16));
        Assert.Equal(JobStatus.Scheduled, _state.Status);

        machine.Tick(_state, T0.AddSeconds(16) + _options.RoleWaitTimeout);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.StartsWith("no eligible node for executor slot 0 within 00:10:00: nodes n1, n2 already on the job", _state.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Tick_ValidatedJobThatCannotSettle_FailsAfterSettleTimeoutWithTheError()
    {
        Submit(validators: 0);
        _machine.Report(_state, Report(1, "n1", "x"), T0);
        _machine.SettleFailed(_state, "HttpRequestException: ledger down", T0);

        _machine.Tick(_state, T0 + _options.SettleTimeout - TimeSpan.FromSeconds(1));
        Assert.Equal(JobStatus.Validated, _state.Status);
        _machine.Tick(_state, T0 + _options.SettleTimeout);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.Equal("validated, but settling failed for 00:10:00, so nothing was charged: HttpRequestException: ledger down", _state.FailureReason);
        Assert.Single(_state.Transitions, t => t.Reason.StartsWith("settling failed", StringComparison.Ordinal));
    }

    [Fact]
    public void Tick_PastTheLifetimeBound_FailsEvenWhenNoOtherDeadlineApplies()
    {
        Submit(validators: 0);
        _state.Assignments[0].Deadline = DateTimeOffset.MaxValue;
        var bound = JobStateMachine.LifetimeBound(_options, TimeSpan.FromSeconds(10));

        _machine.Tick(_state, T0 + bound - TimeSpan.FromSeconds(1));
        Assert.Equal(JobStatus.Scheduled, _state.Status);
        _machine.Tick(_state, T0 + bound);

        Assert.Equal(JobStatus.Failed, _state.Status);
        Assert.StartsWith($"not finished within {bound}", _state.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void LifetimeBound_OfTheDefaults_IsEveryDeadlineAddedUp()
    {
        // Tick period 20 s (half of 30 s + 10 s); an attempt 10 min wait + 40 s run + 2 ticks; 3 rounds of 3 attempts.
        var bound = JobStateMachine.LifetimeBound(new ComputeOptions(), ComputeOptions.DefaultWallTime);

        Assert.Equal(TimeSpan.FromMinutes(10 + 10) + (9 * TimeSpan.FromSeconds(680)) + TimeSpan.FromSeconds(40), bound);
    }

    [Fact]
    public void Tick_PendingLongerThanThePendingTimeout_SaysWhyNoNodeWasEligible()
    {
        _placement.SlotsPerNode = 0;
        Submit(validators: 0);

        _machine.Tick(_state, T0 + _options.PendingTimeout);

        Assert.EndsWith("within 00:10:00: nodes n1, n2, n3, n4 busy", _state.FailureReason, StringComparison.Ordinal);
    }

    /// <summary>The statuses the job went through (assignment records keep the status and are skipped).</summary>
    private List<JobStatus> Statuses()
    {
        var result = new List<JobStatus>();
        foreach (var t in _state.Transitions)
        {
            if (result.Count == 0 || result[^1] != t.To)
            {
                result.Add(t.To);
            }
        }

        return result;
    }

    private void Submit(int validators) => _machine.Submit(_state, JobId, Spec(validators), T0);

    private static JobSpec Spec(int validators) =>
        new(new string('a', 64), JobSpec.WasiStart, [], [], [], new JobLimits(1_000_000_000, 16, TimeSpan.FromSeconds(10)), null, validators, [], null, null);

    private static ExecutionReport Report(int assignment, string node, string output, int exitCode = 0, long fuel = 1000, RunOutcome outcome = RunOutcome.Exited)
    {
        var bytes = Encoding.UTF8.GetBytes(output);
        return new ExecutionReport(assignment, node, ResultHash.Compute(bytes, exitCode, fuel, outcome), bytes, exitCode, fuel, outcome, null, TimeSpan.FromMilliseconds(3));
    }
}
