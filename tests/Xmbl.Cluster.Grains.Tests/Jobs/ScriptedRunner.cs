using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>
/// A job runner driven by the job's first argument: "hang" blocks its thread ignoring cancellation until
/// <see cref="ReleaseHung"/>, "hold" runs until <see cref="ReleaseHeld"/> (or cancellation), anything else returns at once.
/// Counts how many runs are inside at once.
/// </summary>
internal sealed class ScriptedRunner : IJobRunner, IDisposable
{
    private readonly ManualResetEventSlim _hung = new(false);
    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inside;
    private int _maxInside;

    public int Inside => Volatile.Read(ref _inside);

    public int MaxInside => Volatile.Read(ref _maxInside);

    public Task<RunResult> RunAsync(JobWork work, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        var mode = work.Spec.Args.Count > 0 ? work.Spec.Args[0] : "";
        return mode switch
        {
            "hang" => Task.Factory.StartNew(
                () =>
                {
                    Enter();
                    try
                    {
                        // A guest that never looks at its interrupt flag.
                        _hung.Wait(CancellationToken.None);
                        return Ok();
                    }
                    finally
                    {
                        Leave();
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default),
            "hold" => HoldAsync(ct),
            _ => Task.FromResult(Ok()),
        };
    }

    public void ReleaseHung() => _hung.Set();

    public void ReleaseHeld() => Interlocked.Exchange(ref _held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    // Lets abandoned threads finish; the event is not disposed under them.
    public void Dispose() => _hung.Set();

    private async Task<RunResult> HoldAsync(CancellationToken ct)
    {
        Enter();
        try
        {
            await Volatile.Read(ref _held).Task.WaitAsync(ct);
            return Ok();
        }
        catch (OperationCanceledException)
        {
            return new RunResult([], ExitCodes.WallTime, 1, RunOutcome.WallTimeExceeded, "cancelled");
        }
        finally
        {
            Leave();
        }
    }

    private static RunResult Ok() => new("ok"u8.ToArray(), 0, 1000, RunOutcome.Exited, null);

    private void Enter()
    {
        var inside = Interlocked.Increment(ref _inside);
        int max;
        while (inside > (max = Volatile.Read(ref _maxInside)) && Interlocked.CompareExchange(ref _maxInside, inside, max) != max)
        {
        }
    }

    private void Leave() => Interlocked.Decrement(ref _inside);
}
