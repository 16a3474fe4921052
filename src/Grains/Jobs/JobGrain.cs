using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>One job: <see cref="JobStateMachine"/> over persistent state, a reminder for timeouts, settlement once validated.</summary>
internal sealed class JobGrain(IJobPlacement placement, IJobEffects effects, IJobSettlement settlement, JobObjects objects, IOptions<ComputeOptions> options)
    : Grain<JobGrainState>, IJobGrain
{
    /// <summary>The reminder that times out assignments and retries placement.</summary>
    public const string TimeoutReminder = "timeouts";

    private readonly JobStateMachine _machine = new(placement, effects, options.Value);

    public async Task<JobRecord> SubmitAsync(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!State.Exists)
        {
            var now = TimeProvider.GetUtcNow();
            _machine.Submit(State, GetPrimaryKeyString(), spec, now);
            await AfterTransitionAsync(now, registerReminder: true);
        }

        return JobStateMachine.ToRecord(State);
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
        await AfterTransitionAsync(now, registerReminder: false);
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
            await AfterTransitionAsync(now, registerReminder: false);
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
            await AfterTransitionAsync(now, registerReminder: false);
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
        await AfterTransitionAsync(now, registerReminder: false);
        return done;
    }

    public async Task<JobRecord?> CancelAsync(string reason)
    {
        if (!State.Exists)
        {
            return null;
        }

        var now = TimeProvider.GetUtcNow();
        _machine.Cancel(State, string.IsNullOrWhiteSpace(reason) ? "cancelled by the submitter" : reason, now);
        await AfterTransitionAsync(now, registerReminder: false);
        return JobStateMachine.ToRecord(State);
    }

    public async Task ReceiveReminderAsync(string reminderName, TickStatus status)
    {
        if (!string.Equals(reminderName, TimeoutReminder, StringComparison.Ordinal))
        {
            return;
        }

        var now = TimeProvider.GetUtcNow();
        _machine.Tick(State, now);
        await AfterTransitionAsync(now, registerReminder: false);
    }

    /// <summary>Settles a validated job, and keeps the timeout reminder exactly as long as the job is not final.</summary>
    private async Task AfterTransitionAsync(DateTimeOffset now, bool registerReminder)
    {
        if (State.Status == JobStatus.Validated)
        {
            if (State.Spec!.OutputObject is not null && State.OutputObject is null)
            {
                var (stored, outputNote) = await objects.StoreOutputAsync(State.Spec, State.Output ?? []);
                State.OutputObject = stored;
                _machine.Note(State, outputNote, now);
            }

            string? note = null;
            try
            {
                note = await settlement.SettleAsync(JobStateMachine.ToRecord(State));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Keep the validated result (a throw would discard the whole call, reports included); every reminder
                // tick retries until SettleTimeout.
                _machine.SettleFailed(State, $"{ex.GetType().Name}: {ex.Message}", now);
            }

            if (note is not null)
            {
                _machine.Settle(State, note, now);
            }
        }

        if (!State.Exists || JobRecord.IsFinalStatus(State.Status))
        {
            if (!registerReminder)
            {
                await UnregisterReminderAsync(TimeoutReminder);
            }

            return;
        }

        if (registerReminder)
        {
            // Ticks at the first deadline, then often enough to notice later ones without hammering the table. It
            // lives until the job is final, so every state's deadline (JobStateMachine.Tick) fires, after restarts too.
            var wallTime = State.Spec!.Limits.WallTime;
            var first = wallTime + options.Value.DispatchGrace;
            await RegisterOrUpdateReminderAsync(TimeoutReminder, first, JobStateMachine.TickPeriod(wallTime, options.Value.DispatchGrace));
        }
    }
}
