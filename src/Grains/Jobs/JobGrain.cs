using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Jobs.Storage;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>One job: <see cref="JobStateMachine"/> over durable state, deadlines ticked by the silo's <see cref="JobDeadlineTicker"/>, settlement once validated.</summary>
/// <remarks>
/// Deadlines need no reminder per job: they are facts of the stored state, and whichever silo activates a job that is
/// not final ticks it (<see cref="OnActivateAsync"/>); <see cref="JobSweeper"/> activates the unfinished jobs after a
/// start and when a silo is lost.
/// </remarks>
internal sealed class JobGrain(
    [PersistentState(GrainStates.Job, GrainStates.Storage)] IPersistentState<JobGrainState> state,
    IJobPlacement placement,
    IJobEffects effects,
    IJobSettlement settlement,
    JobObjects objects,
    JobDeadlineTicker ticker,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    IOptions<ComputeOptions> options)
    : DurableGrain<JobGrainState>(state), IJobGrain
{
    private readonly JobStateMachine _machine = new(placement, effects, options.Value);
    private TaskCompletionSource? _changed;

    private TimeProvider TimeProvider => time;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        ScheduleTick();
    }

    public async Task<JobSubmitResult> SubmitAsync(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!State.Exists)
        {
            var submitter = spec.Submitter ?? throw new ArgumentException("A job has a submitter, whose account holds its escrow.", nameof(spec));
            var now = TimeProvider.GetUtcNow();

            // The hold needs a price: a job that accepts any price accepts the highest any node asks now, and no more.
            if (spec.MaxPricePerMillionFuel is null)
            {
                spec = spec with { MaxPricePerMillionFuel = placement.HighestPrice() ?? 0m };
            }

            var hold = JobEscrowRules.Hold(spec);
            var held = await settlement.HoldAsync(submitter, this.GetPrimaryKeyString(), hold, now);
            if (held.Refusal != Interfaces.Ledger.LedgerRefusal.Done)
            {
                return new JobSubmitResult(null, hold, held.Account);
            }

            State.EscrowAccount = submitter;
            State.Held = hold;
            _machine.Submit(State, this.GetPrimaryKeyString(), spec, now);
            await AfterTransitionAsync(now);
        }

        return new JobSubmitResult(JobStateMachine.ToRecord(State), State.Held);
    }

    public async Task SettleEscrowAsync(string submitter)
    {
        if (!State.Exists)
        {
            // The hold was made but the job never stored (its submission failed): the whole hold goes back.
            await settlement.SettleAsync(submitter, new EscrowSettlement(this.GetPrimaryKeyString(), [], TimeProvider.GetUtcNow()));
            return;
        }

        if (JobRecord.IsFinalStatus(State.Status) || State.Status == JobStatus.Validated)
        {
            await AfterTransitionAsync(TimeProvider.GetUtcNow());
        }
    }

    public Task<JobRecord?> GetAsync() => Task.FromResult(State.Exists ? JobStateMachine.ToRecord(State) : null);

    public Task<byte[]?> GetOutputAsync() => Task.FromResult(State.Result is null ? null : State.Output);

    public Task<JobWork?> GetWorkAsync(int assignmentId, string nodeId) => Task.FromResult(State.Exists ? JobStateMachine.GetWork(State, assignmentId, nodeId) : null);

    public async Task<JobWork?> RecoverAsync(int assignmentId, string nodeId, string restartId)
    {
        if (!State.Exists)
        {
            return null;
        }

        var now = TimeProvider.GetUtcNow();
        var work = _machine.Recover(State, assignmentId, nodeId, restartId, now);
        await AfterTransitionAsync(now);
        return work;
    }

    public async Task<bool> ReportAsync(ExecutionReport report)
    {
        if (!State.Exists)
        {
            return false;
        }

        var now = TimeProvider.GetUtcNow();
        var accepted = _machine.Report(State, report, now);
        if (accepted)
        {
            await AfterTransitionAsync(now);
        }

        return accepted;
    }

    public async Task<bool> ReportErrorAsync(RunErrorReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!State.Exists)
        {
            return false;
        }

        var now = TimeProvider.GetUtcNow();
        var accepted = _machine.ReportError(State, report, now);
        if (accepted)
        {
            await AfterTransitionAsync(now);
        }

        return accepted;
    }

    public async Task<bool> TryScheduleAsync()
    {
        if (!State.Exists)
        {
            return true;
        }

        var now = TimeProvider.GetUtcNow();
        var done = _machine.TrySchedule(State, now);
        await AfterTransitionAsync(now);
        return done;
    }

    public async Task<JobRecord?> CancelAsync(string reason)
    {
        if (!State.Exists)
        {
            return null;
        }

        var now = TimeProvider.GetUtcNow();
        var wasFinal = JobRecord.IsFinalStatus(State.Status);
        _machine.Cancel(State, string.IsNullOrWhiteSpace(reason) ? "cancelled by the submitter" : reason, now);
        await AfterTransitionAsync(now);
        if (!wasFinal && State.Status == JobStatus.Cancelled)
        {
            effects.StopRuns(State.Id!, State.Assignments.Select(a => a.NodeId));
        }

        return JobStateMachine.ToRecord(State);
    }

    public async Task<DateTimeOffset?> TickAsync()
    {
        if (!State.Exists)
        {
            return null;
        }

        var now = TimeProvider.GetUtcNow();
        if (!JobRecord.IsFinalStatus(State.Status))
        {
            _machine.Tick(State, now);
        }

        await AfterTransitionAsync(now);
        return NextTick(now);
    }

    public async Task<JobRecord?> WaitForChangeAsync(int seenTransitions, TimeSpan maxWait)
    {
        if (State.Exists && State.Transitions.Count == seenTransitions && !JobRecord.IsFinalStatus(State.Status) && maxWait > TimeSpan.Zero)
        {
            _changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                // Real time: a bound on the long poll (below the call timeout), not a deadline of the job.
                await _changed.Task.WaitAsync(maxWait);
            }
            catch (TimeoutException)
            {
            }
        }

        return State.Exists ? JobStateMachine.ToRecord(State) : null;
    }

    /// <summary>
    /// Wakes the watchers once the change is stored, so what they read back is durable; a final job leaves memory as
    /// soon as its watchers have their answer (at thousands of jobs a second, activations kept for Orleans' idle
    /// collection age would hold minutes of jobs in memory; a later read activates it again from storage).
    /// </summary>
    protected override void OnStateWritten()
    {
        if (_changed is { } changed)
        {
            _changed = null;
            changed.TrySetResult();
        }

        if (JobRecord.IsFinalStatus(State.Status) && !State.EscrowOpen)
        {
            DeactivateOnIdle();
        }
    }

    /// <summary>
    /// Settles a validated job, ends the escrow of a failed or cancelled one, and keeps the job on the silo's deadline
    /// ticker exactly as long as it is not final or its escrow is open.
    /// </summary>
    private async Task AfterTransitionAsync(DateTimeOffset now)
    {
        if (State.Status == JobStatus.Validated)
        {
            if (State.Spec!.OutputObject is not null && State.OutputObject is null)
            {
                var (stored, outputNote) = await objects.StoreOutputAsync(State.Spec, State.Output ?? []);
                State.OutputObject = stored;
                _machine.Note(State, outputNote, now);
            }

            if (State.Spec!.Task is not null && State.TaskOutputs is null)
            {
                var (stored, taskNote) = await objects.StoreTaskOutputsAsync(State.Id!, State.Spec, State.Output ?? []);
                State.TaskOutputs = stored;
                _machine.Note(State, taskNote, now);
            }

            string? note = null;
            try
            {
                note = await SettleEscrowAsync(now);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Keep the validated result (a throw would discard the whole call, reports included); every tick
                // retries until SettleTimeout.
                _machine.SettleFailed(State, $"{ex.GetType().Name}: {ex.Message}", now);
            }

            if (note is not null)
            {
                _machine.Settle(State, note, now);
            }
        }
        else if (JobRecord.IsFinalStatus(State.Status) && State.EscrowOpen)
        {
            try
            {
                _machine.Note(State, await SettleEscrowAsync(now), now);
                State.EscrowError = null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The job stays final; its escrow is retried at every tick (and by the submitter's account later).
                var error = $"{ex.GetType().Name}: {ex.Message}";
                if (State.EscrowError is null)
                {
                    _machine.Note(State, $"settling the escrow failed, retried at every tick: {error}", now);
                }

                State.EscrowError = error.Length > JobStateMachine.MaxErrorLength ? error[..JobStateMachine.MaxErrorLength] : error;
            }
        }

        if (State.Spec!.Task is { } task && JobRecord.IsFinalStatus(State.Status) && !State.TaskNotified)
        {
            // One-way; the task also reads the job whenever it is asked, so a lost message only delays it.
            State.TaskNotified = true;
            await GrainFactory.GetGrain<Interfaces.Services.ITaskGrain>(task.TaskId).JobFinishedAsync();
        }

        ScheduleTick();
    }

    /// <summary>Pays the job's nodes from its hold and refunds the rest (once: the account settles each job's hold once).</summary>
    /// <returns>What was done, for the transition log.</returns>
    private async Task<string> SettleEscrowAsync(DateTimeOffset now)
    {
        if (State.EscrowAccount is not { } account)
        {
            // Stored before escrow existed: nothing was held.
            return $"price {(State.Price ?? 0m).ToString(System.Globalization.CultureInfo.InvariantCulture)} xmbl.c (submitted before escrow; nothing held or paid)";
        }

        if (State.EscrowSettled)
        {
            return "escrow already settled";
        }

        var payouts = JobEscrowRules.Payouts(State, State.Held);
        var outcome = await settlement.SettleAsync(account, new EscrowSettlement(State.Id!, payouts, now));
        long paid = 0;
        foreach (var p in payouts)
        {
            paid += p.Amount;
        }

        // A repeated settlement (the first one's write here was lost) finds no hold; the payouts are the same ones,
        // since they follow from the final state alone.
        State.EscrowSettled = true;
        State.Payouts = payouts;
        State.Refunded = State.Held - paid;
        var to = payouts.Count == 0 ? "no node paid" : string.Join(", ", payouts.Select(p => $"{Xmbl.Cluster.Ledger.Credits.Format(p.Amount)} to {p.Payee} (node {p.NodeId})"));
        return $"escrow of {Xmbl.Cluster.Ledger.Credits.Format(State.Held)} xmbl.c settled{(outcome.AlreadySettled ? " (before)" : "")}: {to}; {Xmbl.Cluster.Ledger.Credits.Format(State.Refunded)} xmbl.c refunded";
    }

    /// <summary>Puts the job on this silo's ticker while it is not final; takes it off once it is.</summary>
    private void ScheduleTick()
    {
        var id = this.GetPrimaryKeyString();
        if (NextTick(TimeProvider.GetUtcNow()) is { } next)
        {
            ticker.Schedule(id, next);
        }
        else
        {
            ticker.Forget(id);
        }
    }

    /// <summary>Ticks at the first deadline, then often enough to notice later ones (<see cref="JobStateMachine.TickPeriod"/>).</summary>
    private DateTimeOffset? NextTick(DateTimeOffset now) =>
        !State.Exists || (JobRecord.IsFinalStatus(State.Status) && !State.EscrowOpen)
            ? null
            : now + JobStateMachine.TickPeriod(State.Spec!.Limits.WallTime, options.Value.DispatchGrace);
}
