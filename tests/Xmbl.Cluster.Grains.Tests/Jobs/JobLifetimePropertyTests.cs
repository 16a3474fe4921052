using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>
/// FsCheck property over the state machine alone: whatever nodes do (work, go silent, go away, come back, lie, fail to
/// run the job) and whether settling works, every job is final within <see cref="JobStateMachine.LifetimeBound"/>
/// and no job needs the backstop. FsCheck prints the failing case, shrunk, and the seed to replay it.
/// </summary>
[Trait("Suite", "BVT")]
public sealed class JobLifetimePropertyTests
{
    private const int Nodes = 4;
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan WallTime = TimeSpan.FromSeconds(10);

    private static readonly ComputeOptions Options = new()
    {
        MaxAttempts = 3,
        MaxTieBreakers = 2,
        DispatchGrace = TimeSpan.FromSeconds(5),
        PendingTimeout = TimeSpan.FromMinutes(2),
        RoleWaitTimeout = TimeSpan.FromMinutes(2),
        SettleTimeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>What a node does from one step on.</summary>
    public enum NodeMode
    {
        /// <summary>Placed on, runs and reports the true result.</summary>
        Up,

        /// <summary>Still seen alive, so placed on, but never reports (stopped, not yet seen dead).</summary>
        Silent,

        /// <summary>Seen dead: never placed on.</summary>
        Down,

        /// <summary>Placed on, reports a different result.</summary>
        Lying,

        /// <summary>Placed on, reports that it could not run the job (the same reason on every such node).</summary>
        Failing,
    }

    /// <summary>One step: the clock moves, then maybe one node changes mode, then nodes report, then the reminder ticks.</summary>
    public sealed record Step(int Seconds, int Node, NodeMode Mode, bool Change);

    /// <summary>One run: validators, whether settling fails, and the steps of chaos.</summary>
    public sealed record Scenario(int Validators, bool SettleFails, Step[] Steps)
    {
        /// <summary>Shrinks by dropping one step at a time, so a failure is reported with the fewest steps that cause it.</summary>
        public IEnumerable<Scenario> Shrink() => Enumerable.Range(0, Steps.Length).Select(i => this with { Steps = [.. Steps.Take(i), .. Steps.Skip(i + 1)] });

        public override string ToString() =>
            $"{Validators} validator(s), settling {(SettleFails ? "fails" : "works")}, steps: "
            + string.Join(" ", Steps.Select(s => s.Change ? $"+{s.Seconds}s n{s.Node}={s.Mode}" : $"+{s.Seconds}s"));
    }

    [Fact]
    public void AnyNodeBehaviour_EveryJobIsFinalWithinTheLifetimeBound()
    {
        var period = JobStateMachine.TickPeriod(WallTime, Options.DispatchGrace);
        var step =
            from seconds in Gen.Choose(1, (int)period.TotalSeconds)
            from node in Gen.Choose(0, Nodes - 1)
            from mode in Gen.Elements(Enum.GetValues<NodeMode>())
            from change in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
            select new Step(seconds, node, mode, change);
        var scenario =
            from validators in Gen.Choose(0, JobSpec.MaxValidators)
            from settleFails in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
            from steps in Gen.ArrayOf(step)
            select new Scenario(validators, settleFails, steps);

        var property = Prop.ForAll(Arb.From(scenario, s => s.Shrink()), s => Run(s) is not { } failure ? Prop.ToProperty(true) : Prop.Label(false, failure));

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    /// <summary>Runs the scenario; null when the job ended in time, else what went wrong.</summary>
    private static string? Run(Scenario scenario)
    {
        var placement = new ChaosPlacement();
        var effects = new RecordingEffects();
        var machine = new JobStateMachine(placement, effects, Options);
        var state = new JobGrainState();
        var spec = new JobSpec(new string('a', 64), JobSpec.WasiStart, [], [], [], new JobLimits(1_000_000_000, 16, WallTime), null, scenario.Validators, [], null, null);
        var bound = JobStateMachine.LifetimeBound(Options, WallTime);
        var period = JobStateMachine.TickPeriod(WallTime, Options.DispatchGrace);
        var now = T0;
        machine.Submit(state, "0190000000000-aaaaaaaaaaaa", spec, now);
        var steps = new Queue<Step>(scenario.Steps);
        while (!JobRecord.IsFinalStatus(state.Status) && now - T0 <= bound + period)
        {
            // After the chaos, nodes keep their last mode and the reminder ticks on.
            var next = steps.Count > 0 ? steps.Dequeue() : new Step((int)period.TotalSeconds, 0, NodeMode.Up, Change: false);
            now += TimeSpan.FromSeconds(next.Seconds);
            if (next.Change)
            {
                placement.Modes[next.Node] = next.Mode;
            }

            foreach (var a in state.Assignments.Where(a => a.Status == AssignmentStatus.Assigned).ToList())
            {
                switch (placement.ModeOf(a.NodeId))
                {
                    case NodeMode.Up:
                        machine.Report(state, Report(a, "ok"), now);
                        break;
                    case NodeMode.Lying:
                        machine.Report(state, Report(a, "lie from " + a.NodeId), now);
                        break;
                    case NodeMode.Failing:
                        machine.ReportError(state, new RunErrorReport(a.Id, a.NodeId, "NullReferenceException: args[0]"), now);
                        break;
                }
            }

            // What the grain does after every transition: settle a validated job.
            if (state.Status == JobStatus.Validated)
            {
                if (scenario.SettleFails)
                {
                    machine.SettleFailed(state, "ledger unreachable", now);
                }
                else
                {
                    machine.Settle(state, "charged", now);
                }
            }

            machine.Tick(state, now);
        }

        if (!JobRecord.IsFinalStatus(state.Status))
        {
            return $"still {state.Status} at {now - T0}";
        }

        if (state.FinishedAt - state.CreatedAt > bound)
        {
            return $"took {state.FinishedAt - state.CreatedAt}, over {bound}";
        }

        return state.FailureReason?.StartsWith("not finished within", StringComparison.Ordinal) == true ? state.FailureReason : null;
    }

    private static ExecutionReport Report(AssignmentState a, string output)
    {
        var bytes = Encoding.UTF8.GetBytes(output);
        return new ExecutionReport(a.Id, a.NodeId, ResultHash.Compute(bytes, 0, 1000, RunOutcome.Exited), bytes, 0, 1000, RunOutcome.Exited, null, TimeSpan.FromMilliseconds(1));
    }

    /// <summary>Nodes n0..n3 with two slots each, placed on unless down.</summary>
    private sealed class ChaosPlacement : IJobPlacement
    {
        private readonly Dictionary<string, int> _busy = new(StringComparer.Ordinal);

        public NodeMode[] Modes { get; } = Enumerable.Repeat(NodeMode.Up, Nodes).ToArray();

        public NodeMode ModeOf(string nodeId) => Modes[nodeId[1] - '0'];

        public PlacementChoice? Place(PlacementRequest request)
        {
            foreach (var node in Candidates())
            {
                if (NodeFitness.IsEligible(node, null, Options.MinReputation, request.ExcludedNodes))
                {
                    _busy[node.NodeId] = node.Running + 1;
                    return new PlacementChoice(node.NodeId, "op-" + node.NodeId, 1m);
                }
            }

            return null;
        }

        public void Release(string nodeId, string jobId, int assignmentId, TimeSpan? runTime) => _busy[nodeId] = _busy.GetValueOrDefault(nodeId) - 1;

        public string ExplainNoNode(PlacementRequest request) => NodeFitness.Explain(Candidates(), null, Options.MinReputation, request.ExcludedNodes);

        public decimal? HighestPrice() => 1m;

        public void EnqueuePending(string jobId)
        {
        }

        private IEnumerable<NodeCandidate> Candidates() =>
            Enumerable.Range(0, Nodes).Select(i => new NodeCandidate($"n{i}", $"op-n{i}", Modes[i] != NodeMode.Down, 2, _busy.GetValueOrDefault($"n{i}"), 1m, 0.5, null));
    }
}
