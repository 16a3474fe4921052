using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>
/// The job's state machine over <see cref="JobGrainState"/>, free of the grain runtime so it can be tested alone.
/// pending → scheduled → executed → validating → validated → settled; timeouts reassign a role to another node up to
/// <see cref="ComputeOptions.MaxAttempts"/> times and then fail the job; disagreement → disputed → a tie-breaker
/// node → the majority's result wins and the minority's reputation falls.
/// </summary>
/// <remarks>
/// The executor and the validators are assigned together and run in parallel: validators compare hashes, so they
/// need not wait for the executor. The result is decided once every open slot has reported.
/// </remarks>
internal sealed class JobStateMachine(IJobPlacement placement, IJobEffects effects, ComputeOptions options)
{
    /// <summary>Characters of a node's error or a settlement error kept in the job's state.</summary>
    public const int MaxErrorLength = 1000;

    /// <summary>Creates the job and assigns what can be assigned.</summary>
    public void Submit(JobGrainState state, string jobId, JobSpec spec, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (state.Exists)
        {
            return;
        }

        state.Id = jobId;
        state.Spec = spec;
        state.Status = JobStatus.Pending;
        state.CreatedAt = now;
        state.UpdatedAt = now;
        state.Transitions.Add(new JobTransition(now, JobStatus.Pending, JobStatus.Pending, null, $"submitted: module {spec.ModuleHash[..Math.Min(12, spec.ModuleHash.Length)]}, entry {spec.Entry}, {spec.Validators} validator(s)"));
        Telemetry.ClusterTelemetry.JobTransition(JobStatus.Pending, now, now);
        FillSlots(state, now);
    }

    /// <summary>Retries placement of a pending job or of unfilled slots.</summary>
    /// <returns>True when every slot has a node (or the job is final), false when it still waits for capacity.</returns>
    public bool TrySchedule(JobGrainState state, DateTimeOffset now)
    {
        if (!state.Exists || JobRecord.IsFinalStatus(state.Status))
        {
            return true;
        }

        FillSlots(state, now);
        return JobRecord.IsFinalStatus(state.Status) || state.Status == JobStatus.Validated || UnfilledSlots(state) == 0;
    }

    /// <summary>Slots that have no open assignment.</summary>
    public static int UnfilledSlots(JobGrainState state)
    {
        if (!state.Exists)
        {
            return 0;
        }

        var unfilled = 0;
        for (var slot = 0; slot < SlotCount(state); slot++)
        {
            if (Current(state, slot) is not { Status: AssignmentStatus.Assigned or AssignmentStatus.Reported })
            {
                unfilled++;
            }
        }

        return unfilled;
    }

    /// <summary>The work of an open assignment, or null.</summary>
    public static JobWork? GetWork(JobGrainState state, int assignmentId, string nodeId) =>
        OpenAssignmentOf(state, assignmentId, nodeId) is { } assignment
            ? new JobWork(state.Id!, assignment.Id, assignment.NodeId, assignment.Role, state.Spec!)
            : null;

    /// <summary>
    /// A silo restarted after a crash and found the open assignment of one of its nodes: counts the restart (once per
    /// <paramref name="restartId"/>) and fails the job as poisonous at <see cref="ComputeOptions.PoisonAfterRestarts"/>.
    /// </summary>
    /// <returns>The work to run again, or null when the assignment is not open or the job failed.</returns>
    public JobWork? Recover(JobGrainState state, int assignmentId, string nodeId, string restartId, DateTimeOffset now)
    {
        var work = GetWork(state, assignmentId, nodeId);
        if (work is null || string.Equals(state.LastRestart, restartId, StringComparison.Ordinal))
        {
            return work;
        }

        state.LastRestart = restartId;
        state.Restarts++;
        state.UpdatedAt = now;
        if (state.Restarts >= options.PoisonAfterRestarts)
        {
            // The job's fault, not the node's: no reputation changes, and it never runs again.
            Fail(state, $"poisonous: crashed or hung the node on {state.Restarts} restarts (last: assignment {assignmentId} on node {nodeId})", nodeId, now);
            return null;
        }

        state.Transitions.Add(new JobTransition(now, state.Status, state.Status, nodeId, $"assignment {assignmentId} was unfinished when node {nodeId}'s silo restarted; running it again (restart {state.Restarts}; at {options.PoisonAfterRestarts} the job fails as poisonous)"));
        return work;
    }

    /// <summary>Records a node's report and decides the job when every open slot has reported.</summary>
    /// <returns>False when the report was not for an open assignment of that node or is inconsistent.</returns>
    public bool Report(JobGrainState state, ExecutionReport report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (OpenAssignmentOf(state, report.AssignmentId, report.NodeId) is not { } assignment)
        {
            return false;
        }

        // The hash is what validators compare; a report whose hash does not match its own content is refused
        // (the slot then times out and goes to another node).
        if (!string.Equals(ResultHash.Compute(report.Output, report.ExitCode, report.Fuel, report.Outcome), report.ResultHash, StringComparison.Ordinal))
        {
            return false;
        }

        placement.Release(assignment.NodeId, state.Id!, assignment.Id, report.Duration);
        assignment.NodeTime = report.Duration;
        if (report.Outcome == RunOutcome.WallTimeExceeded)
        {
            // Wall time depends on the machine, so it is no result: the role goes to another node. The node's time and
            // fuel are recorded (charged per docs/jobs.md), and count against the job's node-time budget.
            assignment.Status = AssignmentStatus.TimedOut;
            assignment.Fuel = report.Fuel;
            assignment.ReportedAt = now;
            assignment.Detail = report.Detail ?? $"wall time of {state.Spec!.Limits.WallTime} exceeded";
            state.UpdatedAt = now;
            FillSlots(state, now);
            return true;
        }

        assignment.Status = AssignmentStatus.Reported;
        assignment.ReportedAt = now;
        assignment.ResultHash = report.ResultHash;
        assignment.Fuel = report.Fuel;
        assignment.ExitCode = report.ExitCode;
        assignment.Outcome = report.Outcome;
        assignment.Detail = report.Detail;
        assignment.Output = report.Output;
        state.UpdatedAt = now;

        if (assignment.Role == JobRole.Executor && state.Status == JobStatus.Scheduled)
        {
            state.ExecutedAt ??= now;
            Transition(state, JobStatus.Executed, assignment.NodeId, $"executor reported {Describe(report.Outcome, report.ExitCode)}, fuel {report.Fuel}", now);
            if (state.Spec!.Validators > 0)
            {
                Transition(state, JobStatus.Validating, null, DescribeValidators(state), now);
            }
        }

        Decide(state, now);
        return true;
    }

    /// <summary>
    /// Records that a node could not run its assignment. The role goes to another node; once
    /// <see cref="ComputeOptions.SameFailureNodes"/> distinct nodes have failed with the same reason, the failure is the
    /// job's own and the job fails with it, and no node's reputation moves.
    /// </summary>
    /// <returns>False when the report was not for an open assignment of that node.</returns>
    public bool ReportError(JobGrainState state, RunErrorReport report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (OpenAssignmentOf(state, report.AssignmentId, report.NodeId) is not { } assignment)
        {
            return false;
        }

        var reason = string.IsNullOrWhiteSpace(report.Reason) ? "the node gave no reason" : report.Reason;
        if (reason.Length > MaxErrorLength)
        {
            reason = reason[..MaxErrorLength];
        }

        placement.Release(assignment.NodeId, state.Id!, assignment.Id, null);
        assignment.Status = AssignmentStatus.Failed;
        assignment.ReportedAt = now;
        assignment.Detail = reason;
        state.UpdatedAt = now;

        var nodes = state.Assignments
            .Where(a => a.Status == AssignmentStatus.Failed && string.Equals(a.Detail, reason, StringComparison.Ordinal))
            .Select(a => a.NodeId)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (nodes.Count >= options.SameFailureNodes)
        {
            Fail(state, $"the job fails the same way on {nodes.Count} nodes ({string.Join(", ", nodes)}), so the fault is the job's: {reason}", null, now);
        }
        else
        {
            FillSlots(state, now);
        }

        return true;
    }

    /// <summary>Handles the reminder: times out overdue assignments, retries placement, fails jobs that waited too long.</summary>
    public void Tick(JobGrainState state, DateTimeOffset now)
    {
        if (!state.Exists || JobRecord.IsFinalStatus(state.Status))
        {
            return;
        }

        var changed = false;
        foreach (var assignment in state.Assignments)
        {
            if (assignment.Status == AssignmentStatus.Assigned && assignment.Deadline <= now)
            {
                // The node pays only once another node has produced the result (see Accept): a job that times out
                // on every node it is given to is at fault itself.
                assignment.Status = AssignmentStatus.TimedOut;
                assignment.Detail = $"no report by {assignment.Deadline:O}";
                placement.Release(assignment.NodeId, state.Id!, assignment.Id, null);
                changed = true;
            }
        }

        var bound = LifetimeBound(options, state.Spec!.Limits.WallTime);
        if (now - state.CreatedAt >= bound)
        {
            // A backstop: every state below has its own deadline, so this fires only if one of them failed to.
            Fail(state, $"not finished within {bound}, the longest any job with this wall time may take (it was {state.Status.ToString().ToLowerInvariant()})", null, now);
            return;
        }

        if (state.Status == JobStatus.Pending && now - state.CreatedAt >= options.PendingTimeout)
        {
            var request = Request(state, 0, NextAssignmentId(state), now);
            Fail(state, $"no eligible node (alive, with free capacity, price at most {FormatPrice(state.Spec!.MaxPricePerMillionFuel)}) within {options.PendingTimeout}: {placement.ExplainNoNode(request)}", null, now);
            return;
        }

        if (state.Status == JobStatus.Validated)
        {
            // Settlement is retried by the grain at every tick; it may not go on forever.
            if (now - state.ValidatedAt >= options.SettleTimeout)
            {
                Fail(state, $"validated, but settling failed for {options.SettleTimeout}, so nothing was charged: {state.SettleError ?? "no reason recorded"}", state.Result?.NodeId, now);
            }

            return;
        }

        var before = state.Status;
        FillSlots(state, now);
        if (!JobRecord.IsFinalStatus(state.Status))
        {
            Decide(state, now);
        }

        if (!JobRecord.IsFinalStatus(state.Status) && state.Status != JobStatus.Validated)
        {
            FailWaitedTooLong(state, now);
        }

        if (changed || before != state.Status)
        {
            state.UpdatedAt = now;
        }
    }

    /// <summary>Cancels the job unless it is final.</summary>
    public void Cancel(JobGrainState state, string reason, DateTimeOffset now)
    {
        if (!state.Exists || JobRecord.IsFinalStatus(state.Status))
        {
            return;
        }

        CloseOpenAssignments(state, "job cancelled");
        state.FailureReason = reason;
        state.FinishedAt = now;
        Transition(state, JobStatus.Cancelled, null, reason, now);
    }

    /// <summary>Records that the validated result was charged.</summary>
    public void Settle(JobGrainState state, string reason, DateTimeOffset now)
    {
        if (state.Status != JobStatus.Validated)
        {
            throw new InvalidOperationException($"Job {state.Id} is {state.Status}, only a validated job can be settled.");
        }

        state.FinishedAt = now;
        Transition(state, JobStatus.Settled, state.Result?.NodeId, reason, now);
    }

    /// <summary>Records an event that does not change the status (e.g. where the output was stored).</summary>
    public void Note(JobGrainState state, string reason, DateTimeOffset now)
    {
        state.Transitions.Add(new JobTransition(now, state.Status, state.Status, null, reason));
        state.UpdatedAt = now;
    }

    /// <summary>Records that settling the validated job failed (the grain retries at every tick, up to <see cref="ComputeOptions.SettleTimeout"/>).</summary>
    public void SettleFailed(JobGrainState state, string error, DateTimeOffset now)
    {
        if (state.SettleError is null)
        {
            state.Transitions.Add(new JobTransition(now, state.Status, state.Status, null, $"settling failed, retried until {state.ValidatedAt + options.SettleTimeout:O}: {error}"));
        }

        state.SettleError = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
        state.UpdatedAt = now;
    }

    /// <summary>
    /// The longest a job may stay unfinished: every state's deadline added up, each observed up to one reminder
    /// period late. Pending + settling + (1 + tie-breakers) rounds of attempts, each attempt a wait for a node plus a
    /// run to its deadline.
    /// </summary>
    public static TimeSpan LifetimeBound(ComputeOptions options, TimeSpan wallTime)
    {
        ArgumentNullException.ThrowIfNull(options);
        var period = TickPeriod(wallTime, options.DispatchGrace);
        var attempt = options.RoleWaitTimeout + wallTime + options.DispatchGrace + (2 * period);
        return options.PendingTimeout + options.SettleTimeout + ((1 + options.MaxTieBreakers) * options.MaxAttempts * attempt) + (2 * period);
    }

    /// <summary>How often the job's reminder ticks: half the first deadline (wall time + grace), at least a second.</summary>
    public static TimeSpan TickPeriod(TimeSpan wallTime, TimeSpan dispatchGrace) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, (wallTime + dispatchGrace).Ticks / 2));

    public static JobRecord ToRecord(JobGrainState state)
    {
        var executor = state.Assignments.LastOrDefault(a => a.Role == JobRole.Executor)?.NodeId;
        var validators = state.Assignments.Where(a => a.Role != JobRole.Executor).Select(a => a.NodeId).Distinct(StringComparer.Ordinal).ToArray();
        return new JobRecord(
            state.Id!, state.Status, state.Spec!, state.CreatedAt, state.UpdatedAt, state.ScheduledAt, state.ExecutedAt, state.ValidatedAt, state.FinishedAt,
            executor, validators, state.Result, state.Price, state.FailureReason,
            [.. state.Assignments.Select(a => a.ToRecord())], [.. state.Transitions], state.Spec!.InputObjects, state.OutputObject,
            state.EscrowAccount is { } account ? new JobEscrow(account, state.Held, state.Payouts ?? [], state.Refunded, state.EscrowSettled) : null,
            state.TaskOutputs);
    }

    /// <summary>Slots the job needs now: executor, validators, and tie-breakers opened by disputes.</summary>
    private static int SlotCount(JobGrainState state) => 1 + state.Spec!.Validators + state.TieBreakers;

    private static JobRole RoleOf(JobGrainState state, int slot) =>
        slot == 0 ? JobRole.Executor : slot <= state.Spec!.Validators ? JobRole.Validator : JobRole.TieBreaker;

    /// <summary>The current assignment of each slot that has one (the latest; earlier ones timed out).</summary>
    private static IEnumerable<AssignmentState> OpenSlots(JobGrainState state)
    {
        for (var slot = 0; slot < SlotCount(state); slot++)
        {
            var current = Current(state, slot);
            if (current is not null && current.Status is AssignmentStatus.Assigned or AssignmentStatus.Reported)
            {
                yield return current;
            }
        }
    }

    private static AssignmentState? Current(JobGrainState state, int slot)
    {
        AssignmentState? current = null;
        foreach (var a in state.Assignments)
        {
            if (a.Slot == slot)
            {
                current = a;
            }
        }

        return current;
    }

    private static int NextAssignmentId(JobGrainState state) => state.Assignments.Count == 0 ? 1 : state.Assignments[^1].Id + 1;

    /// <summary>The assignment, if it is still open, belongs to <paramref name="nodeId"/>, and the job is not final.</summary>
    private static AssignmentState? OpenAssignmentOf(JobGrainState state, int assignmentId, string nodeId) =>
        Find(state, assignmentId) is { Status: AssignmentStatus.Assigned } assignment
            && string.Equals(assignment.NodeId, nodeId, StringComparison.Ordinal)
            && !JobRecord.IsFinalStatus(state.Status)
            ? assignment
            : null;

    private static AssignmentState? Find(JobGrainState state, int id)
    {
        foreach (var a in state.Assignments)
        {
            if (a.Id == id)
            {
                return a;
            }
        }

        return null;
    }

    /// <summary>Assigns a node to every slot without an open assignment; fails the job when a slot used all its attempts.</summary>
    private void FillSlots(JobGrainState state, DateTimeOffset now)
    {
        if (JobRecord.IsFinalStatus(state.Status) || state.Status == JobStatus.Validated)
        {
            return;
        }

        var spec = state.Spec!;
        for (var slot = 0; slot < SlotCount(state); slot++)
        {
            var current = Current(state, slot);
            if (current is not null && current.Status is AssignmentStatus.Assigned or AssignmentStatus.Reported)
            {
                continue;
            }

            var role = RoleOf(state, slot);
            var attempts = state.Assignments.Count(a => a.Slot == slot);
            if (attempts >= options.MaxAttempts)
            {
                var last = current?.Detail ?? "no report";
                var what = state.Assignments.All(a => a.Slot != slot || a.Status == AssignmentStatus.TimedOut) ? "timed out on" : "got no result from";
                Fail(state, $"{role.ToString().ToLowerInvariant()} {what} {attempts} node(s), the limit (last: {last})", current?.NodeId, now);
                return;
            }

            if (NodeTimeBudgetExceeded(state) is { } overBudget)
            {
                Fail(state, overBudget, current?.NodeId, now);
                return;
            }

            var id = NextAssignmentId(state);
            var request = Request(state, slot, id, now);
            var choice = placement.Place(request);
            if (choice is null)
            {
                // The role's wait for a node is bounded: see FailWaitedTooLong.
                (state.SlotWaitingSince ??= []).TryAdd(slot, now);
                if (slot == 0 && state.Status == JobStatus.Pending)
                {
                    placement.EnqueuePending(state.Id!);
                    return;
                }

                // A validator or tie-breaker slot without a node: retried when slots free and by the reminder.
                placement.EnqueuePending(state.Id!);
                continue;
            }

            if (state.SlotWaitingSince?.Remove(slot) == true && state.SlotWaitingSince.Count == 0)
            {
                state.SlotWaitingSince = null;
            }

            var assignment = new AssignmentState
            {
                Id = id,
                Slot = slot,
                NodeId = choice.NodeId,
                Operator = choice.Operator,
                Role = role,
                AssignedAt = now,
                Deadline = request.Deadline,
                Status = AssignmentStatus.Assigned,
                PricePerMillionFuel = choice.PricePerMillionFuel,
            };
            state.Assignments.Add(assignment);
            state.UpdatedAt = now;
            if (slot == 0 && state.Status == JobStatus.Pending)
            {
                state.ScheduledAt ??= now;
                Transition(state, JobStatus.Scheduled, choice.NodeId, attempts == 0 ? "executor assigned" : "executor reassigned", now);
            }
            else if (slot == 0 && attempts > 0)
            {
                // A rescheduled executor: the status stays (scheduled), the move is still recorded.
                state.Transitions.Add(new JobTransition(now, state.Status, state.Status, choice.NodeId, $"executor rescheduled (attempt {attempts + 1}): {current?.Detail}"));
            }
            else if (slot > 0)
            {
                var what = role == JobRole.Validator ? "validator" : "tie-breaker";
                state.Transitions.Add(new JobTransition(now, state.Status, state.Status, choice.NodeId, attempts == 0 ? $"{what} assigned" : $"{what} rescheduled (attempt {attempts + 1}): {current?.Detail}"));
            }

            effects.Dispatch(new JobDispatch(state.Id!, id, choice.NodeId, role, spec));
        }
    }

    /// <summary>
    /// The failure reason when one more run could take the job past <see cref="ComputeOptions.NodeTimeBudget"/> wall
    /// times of node time, else null. Counted: reported run times, the wall time of runs that ended unreported, and the
    /// wall time open assignments may still use.
    /// </summary>
    private string? NodeTimeBudgetExceeded(JobGrainState state)
    {
        var wall = state.Spec!.Limits.WallTime;
        var committed = TimeSpan.Zero;
        foreach (var a in state.Assignments)
        {
            committed += a.NodeTime ?? (a.Status is AssignmentStatus.Assigned or AssignmentStatus.TimedOut ? wall : TimeSpan.Zero);
        }

        var budget = wall * options.NodeTimeBudget;
        return committed + wall > budget
            ? $"node-time budget used: {committed.TotalSeconds:0.###} s of runs and attempts, and another run could take it past {options.NodeTimeBudget} x the wall-clock limit of {wall.TotalSeconds:0.###} s"
            : null;
    }

    /// <summary>
    /// What placing a slot asks for. Never the same node twice for one job: a validator is never the executor, a
    /// retry goes elsewhere.
    /// </summary>
    private PlacementRequest Request(JobGrainState state, int slot, int assignmentId, DateTimeOffset now)
    {
        var spec = state.Spec!;
        var role = RoleOf(state, slot);
        var excluded = state.Assignments.Select(a => a.NodeId).ToHashSet(StringComparer.Ordinal);
        var avoid = role == JobRole.Executor
            ? (IReadOnlyCollection<string>)[]
            : state.Assignments.Where(a => a.Role == JobRole.Executor).Select(a => a.Operator).ToHashSet(StringComparer.Ordinal);
        // Every node of a job runs the same engine and version as the first one placed: result hashes include fuel,
        // which each engine counts its own way.
        var peer = (role == JobRole.Executor
            ? state.Assignments.LastOrDefault(a => a.Role != JobRole.Executor)
            : state.Assignments.LastOrDefault(a => a.Role == JobRole.Executor))?.NodeId;
        return new PlacementRequest(state.Id!, assignmentId, spec, role, excluded, avoid, now + spec.Limits.WallTime + options.DispatchGrace, peer);
    }

    /// <summary>Fails the job when a role of a scheduled job has waited <see cref="ComputeOptions.RoleWaitTimeout"/> for a node, saying why no node was eligible.</summary>
    private void FailWaitedTooLong(JobGrainState state, DateTimeOffset now)
    {
        if (state.SlotWaitingSince is not { Count: > 0 } waits)
        {
            return;
        }

        foreach (var (slot, since) in waits.OrderBy(w => w.Key))
        {
            if (now - since < options.RoleWaitTimeout || Current(state, slot) is { Status: AssignmentStatus.Assigned or AssignmentStatus.Reported })
            {
                continue;
            }

            var role = RoleOf(state, slot);
            var last = Current(state, slot) is { Detail: { } detail } ? $"; its last node: {detail}" : "";
            var why = placement.ExplainNoNode(Request(state, slot, NextAssignmentId(state), now));
            var name = role == JobRole.TieBreaker ? "tie-breaker" : role.ToString().ToLowerInvariant();
            Fail(state, $"no eligible node for {name} slot {slot} within {options.RoleWaitTimeout}: {why}{last}", null, now);
            return;
        }
    }

    /// <summary>Where the validators stand, for the transition to validating.</summary>
    private static string DescribeValidators(JobGrainState state)
    {
        int reported = 0, running = 0, unplaced = 0;
        for (var slot = 1; slot < SlotCount(state); slot++)
        {
            switch (Current(state, slot)?.Status)
            {
                case AssignmentStatus.Reported:
                    reported++;
                    break;
                case AssignmentStatus.Assigned:
                    running++;
                    break;
                default:
                    unplaced++;
                    break;
            }
        }

        if (running == 0 && unplaced == 0)
        {
            return "validators have reported";
        }

        var parts = new List<string>(3);
        if (reported > 0)
        {
            parts.Add($"{reported} reported");
        }

        if (running > 0)
        {
            parts.Add($"{running} running");
        }

        if (unplaced > 0)
        {
            parts.Add($"{unplaced} waiting for a node");
        }

        return $"waiting for validators: {string.Join(", ", parts)}";
    }

    /// <summary>Decides the result once every open slot has reported.</summary>
    private void Decide(JobGrainState state, DateTimeOffset now)
    {
        if (state.Status is not (JobStatus.Executed or JobStatus.Validating or JobStatus.Disputed))
        {
            return;
        }

        var slots = OpenSlots(state).ToList();
        if (slots.Count < SlotCount(state) || slots.Any(s => s.Status != AssignmentStatus.Reported))
        {
            return;
        }

        var groups = slots.GroupBy(s => s.ResultHash!, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ToList();
        if (groups.Count == 1)
        {
            var reason = slots.Count == 1 ? "no validation requested" : $"all {slots.Count} nodes agree";
            Accept(state, groups[0].ToList(), [], reason, now);
            return;
        }

        var winner = groups[0].Count() >= 2 && groups[0].Count() > groups[1].Count() ? groups[0] : null;
        if (state.Status != JobStatus.Disputed)
        {
            var executor = slots.First(s => s.Slot == 0);
            var against = slots.Where(s => !string.Equals(s.ResultHash, executor.ResultHash, StringComparison.Ordinal)).Select(s => s.NodeId);
            Transition(state, JobStatus.Disputed, executor.NodeId, $"result hashes differ: {string.Join(", ", against)} disagree with the executor", now);
        }

        if (winner is not null)
        {
            var minority = slots.Where(s => !string.Equals(s.ResultHash, winner.Key, StringComparison.Ordinal)).ToList();
            Accept(state, winner.ToList(), minority, $"majority of {winner.Count()} of {slots.Count} nodes; outvoted: {string.Join(", ", minority.Select(m => m.NodeId))}", now);
            return;
        }

        if (state.TieBreakers >= options.MaxTieBreakers)
        {
            foreach (var s in slots)
            {
                s.Output = null;
            }

            Fail(state, $"no majority among {slots.Count} results after {state.TieBreakers} tie-breaker(s)", null, now);
            return;
        }

        state.TieBreakers++;
        FillSlots(state, now);
    }

    private void Accept(JobGrainState state, List<AssignmentState> majority, List<AssignmentState> minority, string reason, DateTimeOffset now)
    {
        // Prefer the executor's report as the result (it is the node the job was placed on), else the first in the majority.
        var chosen = majority.FirstOrDefault(a => a.Slot == 0) ?? majority.OrderBy(a => a.Id).First();
        state.Output = chosen.Output ?? [];
        state.Result = new JobResult(chosen.ResultHash!, chosen.Outcome!.Value, chosen.ExitCode!.Value, chosen.Fuel!.Value, state.Output.Length, chosen.Detail, chosen.NodeId);
        state.Price = chosen.Fuel!.Value * chosen.PricePerMillionFuel / 1_000_000m;
        if (chosen.Outcome is not (RunOutcome.Exited or RunOutcome.Returned))
        {
            state.FailureReason = $"{Describe(chosen.Outcome.Value, chosen.ExitCode.Value)}{(chosen.Detail is null ? "" : ": " + chosen.Detail)}";
        }

        foreach (var a in state.Assignments)
        {
            a.Output = null;
        }

        // With a single node nothing was compared, so nobody's reputation moves.
        if (majority.Count + minority.Count > 1)
        {
            foreach (var a in majority)
            {
                a.Agreed = true;
                effects.Reputation(a.NodeId, 1, 0, 0);
            }

            foreach (var a in minority)
            {
                a.Agreed = false;
                effects.Reputation(a.NodeId, 0, 1, 0);
            }
        }

        // Nodes that went silent past their deadline (no ReportedAt; a run over wall time reports and is no fault) or
        // could not run the job while another node could: the fault was theirs.
        foreach (var a in state.Assignments)
        {
            if (a.Status == AssignmentStatus.Failed || (a.Status == AssignmentStatus.TimedOut && a.ReportedAt is null))
            {
                effects.Reputation(a.NodeId, 0, 0, 1);
            }
        }

        CloseOpenAssignments(state, "result decided");
        state.ValidatedAt = now;
        Transition(state, JobStatus.Validated, chosen.NodeId, reason, now);
    }

    private void Fail(JobGrainState state, string reason, string? nodeId, DateTimeOffset now)
    {
        CloseOpenAssignments(state, "job failed");
        state.FailureReason = reason;
        state.FinishedAt = now;
        Transition(state, JobStatus.Failed, nodeId, reason, now);
    }

    private void CloseOpenAssignments(JobGrainState state, string detail)
    {
        foreach (var a in state.Assignments)
        {
            if (a.Status == AssignmentStatus.Assigned)
            {
                a.Status = AssignmentStatus.Cancelled;
                a.Detail = detail;
                placement.Release(a.NodeId, state.Id!, a.Id, null);
            }

            a.Output = null;
        }
    }

    private static void Transition(JobGrainState state, JobStatus to, string? nodeId, string reason, DateTimeOffset now)
    {
        state.Transitions.Add(new JobTransition(now, state.Status, to, nodeId, reason));
        state.Status = to;
        state.UpdatedAt = now;
        Telemetry.ClusterTelemetry.JobTransition(to, state.CreatedAt, now);
    }

    internal static string Describe(RunOutcome outcome, int exitCode) => outcome switch
    {
        RunOutcome.Exited => $"exit code {exitCode}",
        RunOutcome.Returned => "returned",
        RunOutcome.OutOfFuel => "fuel exhausted",
        RunOutcome.Trapped => "trapped",
        RunOutcome.MemoryExceeded => "memory limit exceeded",
        RunOutcome.Invalid => "invalid module or entry point",
        RunOutcome.WallTimeExceeded => "wall time exceeded",
        RunOutcome.OutputLimitExceeded => "output limit exceeded",
        _ => outcome.ToString(),
    };

    private static string FormatPrice(decimal? price) => price is { } p ? p.ToString(System.Globalization.CultureInfo.InvariantCulture) : "any";
}
