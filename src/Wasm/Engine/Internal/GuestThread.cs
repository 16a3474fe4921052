using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Dedicated threads with a large stack on which guest code runs. A .NET stack overflow kills the process, so
/// wasm calls never run on the caller's (possibly small) stack: the call-depth limit plus this stack size keep
/// deep recursion a catchable trap. Idle threads are reused.
/// </summary>
internal static unsafe class GuestThread
{
    /// <summary>Stack reserved per guest thread (virtual; pages are committed on use).</summary>
    public const int StackSize = 512 * 1024 * 1024;

    /// <summary>Kept free at the low end of a guest stack below <see cref="StackLimit"/> (guard page, thread start).</summary>
    private const int StackLimitReserve = 1024 * 1024;

    private const int MaxIdleWorkers = 16;

    private static readonly ConcurrentBag<Worker> Idle = [];

    [ThreadStatic]
    private static bool t_isGuest;

    /// <summary>
    /// The lowest stack address guest code may use on this thread (0 elsewhere). Only the real-stack safety net of
    /// large frames reads it (see <c>StackBudget</c>); the deterministic stack budget traps long before.
    /// </summary>
    [ThreadStatic]
    internal static nuint StackLimit;

    public static bool IsCurrent => t_isGuest;

    /// <summary>Runs <paramref name="work"/> on a guest thread and waits; exceptions are rethrown unchanged.</summary>
    public static void Run(Action work)
    {
        var worker = Take();
        worker.Execute(work);
        Recycle(worker);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a guest thread without blocking the caller; the task completes (on the thread
    /// pool) after the guest thread is free again.
    /// </summary>
    public static Task<T> RunAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        T? result = default;
        ExceptionDispatchInfo? error = null;
        Take().Post(
            () =>
            {
                try
                {
                    result = work();
                }
                catch (Exception ex)
                {
                    error = ExceptionDispatchInfo.Capture(ex);
                }
            },
            () =>
            {
                if (error is null)
                {
                    completion.SetResult(result!);
                }
                else
                {
                    completion.SetException(error.SourceException);
                }
            });
        return completion.Task;
    }

    private static Worker Take() => Idle.TryTake(out var worker) ? worker : new Worker();

    private static void Recycle(Worker worker)
    {
        if (Idle.Count < MaxIdleWorkers)
        {
            Idle.Add(worker);
        }
        else
        {
            worker.Stop();
        }
    }

    private sealed class Worker
    {
        // Both sides spin briefly before blocking: a blocked-thread wake-up costs tens of microseconds (milliseconds
        // on a loaded machine), which would dominate short calls from the host. The phase field is the truth; the
        // monitor only parks and wakes (it does not spin, unlike SemaphoreSlim.Wait). After a posted (async) run
        // nobody is waiting for a quick next call, so the worker parks at once: spinning idle workers took CPU from
        // the runs themselves when many jobs ran at once.
        private const int SpinIterations = 200;
        private const int Idle = 0;
        private const int Posted = 1;
        private const int Done = 2;

        private readonly object _gate = new(); // a monitor, for Wait/PulseAll (System.Threading.Lock has no condition wait)
        private volatile int _phase;
        private Action? _work;
        private Action? _afterRecycle;
        private ExceptionDispatchInfo? _error;

        public Worker()
        {
            var thread = new Thread(Loop, StackSize) { IsBackground = true, Name = "wasm-guest" };
            thread.Start();
        }

        public void Execute(Action work)
        {
            _work = work;
            _afterRecycle = null;
            _error = null;
            _phase = Posted;
            Signal();
            WaitFor(Done, SpinIterations);
            _phase = Idle;
            var error = _error;
            _error = null;
            error?.Throw();
        }

        /// <summary>Starts <paramref name="work"/>; the worker recycles itself and then calls <paramref name="afterRecycle"/>.</summary>
        public void Post(Action work, Action afterRecycle)
        {
            _work = work;
            _afterRecycle = afterRecycle;
            _phase = Posted;
            Signal();
        }

        public void Stop()
        {
            _work = null;
            _afterRecycle = null;
            _phase = Posted;
            Signal();
        }

        private void WaitFor(int phase, int spins)
        {
            var spinner = default(SpinWait);
            for (var i = 0; i < spins && _phase != phase; i++)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            if (_phase == phase)
            {
                return;
            }

            // The phase is set before Signal takes the gate, and checked here under it: no wake-up is lost.
            lock (_gate)
            {
                while (_phase != phase)
                {
                    Monitor.Wait(_gate);
                }
            }
        }

        private void Signal()
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        private void Loop()
        {
            var marker = 0;
            StackLimit = (nuint)(&marker) - StackSize + StackLimitReserve;
            t_isGuest = true;
            var spins = SpinIterations;
            while (true)
            {
                WaitFor(Posted, spins);
                var work = _work;
                if (work is null)
                {
                    return;
                }

                _work = null;
                var afterRecycle = _afterRecycle;
                _afterRecycle = null;
                if (afterRecycle is not null)
                {
                    // Posted: exceptions are the work's own business (RunAsync captures them).
                    work();
                    _phase = Idle;
                    Recycle(this);
                    afterRecycle();
                    spins = 0;
                    continue;
                }

                try
                {
                    work();
                }
                catch (Exception ex)
                {
                    _error = ExceptionDispatchInfo.Capture(ex);
                }

                spins = SpinIterations;
                _phase = Done;
                Signal();
            }
        }
    }
}
