using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Dedicated threads with a large stack on which guest code runs. A .NET stack overflow kills the process, so
/// wasm calls never run on the caller's (possibly small) stack: the call-depth limit plus this stack size keep
/// deep recursion a catchable trap. Idle threads are reused.
/// </summary>
internal static class GuestThread
{
    /// <summary>Stack reserved per guest thread (virtual; pages are committed on use).</summary>
    public const int StackSize = 512 * 1024 * 1024;

    private const int MaxIdleWorkers = 16;

    private static readonly ConcurrentBag<Worker> Idle = [];

    [ThreadStatic]
    private static bool t_isGuest;

    public static bool IsCurrent => t_isGuest;

    /// <summary>Runs <paramref name="work"/> on a guest thread and waits; exceptions are rethrown unchanged.</summary>
    public static void Run(Action work)
    {
        if (!Idle.TryTake(out var worker))
        {
            worker = new Worker();
        }

        worker.Execute(work);
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
        // on a loaded machine), which would dominate short calls from the host. The semaphores are only the
        // fallback; the phase field is the truth, so stray semaphore counts are harmless.
        private const int SpinIterations = 200;
        private const int Idle = 0;
        private const int Posted = 1;
        private const int Done = 2;

        private readonly SemaphoreSlim _startSignal = new(0);
        private readonly SemaphoreSlim _doneSignal = new(0);
        private volatile int _phase;
        private Action? _work;
        private ExceptionDispatchInfo? _error;

        public Worker()
        {
            var thread = new Thread(Loop, StackSize) { IsBackground = true, Name = "wasm-guest" };
            thread.Start();
        }

        public void Execute(Action work)
        {
            _work = work;
            _error = null;
            _phase = Posted;
            _startSignal.Release();
            WaitFor(Done, _doneSignal);
            _phase = Idle;
            var error = _error;
            _error = null;
            error?.Throw();
        }

        public void Stop()
        {
            _work = null;
            _phase = Posted;
            _startSignal.Release();
        }

        private void WaitFor(int phase, SemaphoreSlim signal)
        {
            var spinner = default(SpinWait);
            for (var i = 0; i < SpinIterations && _phase != phase; i++)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            while (_phase != phase)
            {
                signal.Wait();
            }
        }

        private void Loop()
        {
            t_isGuest = true;
            while (true)
            {
                WaitFor(Posted, _startSignal);
                var work = _work;
                if (work is null)
                {
                    return;
                }

                _work = null;
                try
                {
                    work();
                }
                catch (Exception ex)
                {
                    _error = ExceptionDispatchInfo.Capture(ex);
                }

                _phase = Done;
                _doneSignal.Release();
            }
        }
    }
}
