using System.Diagnostics;

namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>The guest's clocks: the host's, or a virtual clock that only moves when the guest looks at it
/// or sleeps.</summary>
internal sealed class WasiClock
{
    private const ulong NanosPerTick = 100;

    private readonly WasiClockMode _mode;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly ulong _epochNs;
    private readonly ulong _stepNs;
    private ulong _virtualNs;

    public WasiClock(WasiConfiguration config)
    {
        _mode = config.ClockMode;
        _time = config.TimeProvider;
        _startTimestamp = _time.GetTimestamp();
        var sinceUnix = config.VirtualEpoch.UtcTicks - DateTime.UnixEpoch.Ticks;
        _epochNs = sinceUnix > 0 ? (ulong)sinceUnix * NanosPerTick : 0;
        if (config.VirtualClockStep <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(config), "VirtualClockStep must be positive.");
        }

        _stepNs = (ulong)config.VirtualClockStep.Ticks * NanosPerTick;
    }

    public bool IsDeterministic => _mode == WasiClockMode.Deterministic;

    public static bool IsValid(int clockId) => clockId is >= WasiRights.ClockRealtime and <= WasiRights.ClockThreadCputime;

    /// <summary>Reads a clock (advancing the virtual clock by one step).</summary>
    public ulong Now(int clockId)
    {
        if (_mode == WasiClockMode.Deterministic)
        {
            _virtualNs += _stepNs;
            return clockId == WasiRights.ClockRealtime ? _epochNs + _virtualNs : _virtualNs;
        }

        return Peek(clockId);
    }

    /// <summary>Reads a clock without advancing virtual time (used to evaluate sleep deadlines).</summary>
    public ulong Peek(int clockId)
    {
        if (_mode == WasiClockMode.Deterministic)
        {
            return clockId == WasiRights.ClockRealtime ? _epochNs + _virtualNs : _virtualNs;
        }

        if (clockId == WasiRights.ClockRealtime)
        {
            var ticks = _time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks;
            return ticks > 0 ? (ulong)ticks * NanosPerTick : 0;
        }

        // Monotonic and both CPU-time clocks: time since this context started (the guest is single-threaded
        // and runs on one host thread for its whole life, so elapsed time bounds its CPU time).
        var elapsed = _time.GetElapsedTime(_startTimestamp);
        return (ulong)elapsed.Ticks * NanosPerTick;
    }

    public ulong Resolution(int clockId)
    {
        if (_mode == WasiClockMode.Deterministic)
        {
            return _stepNs;
        }

        if (clockId == WasiRights.ClockRealtime)
        {
            return NanosPerTick;
        }

        var frequency = _time.TimestampFrequency;
        return frequency >= 1_000_000_000 ? 1UL : (ulong)(1_000_000_000 / frequency);
    }

    /// <summary>Lets <paramref name="nanoseconds"/> pass: instantly for the virtual clock, by waiting (in slices,
    /// so cancellation and the store's interrupt are honoured) for the host clock.</summary>
    public void Sleep(ulong nanoseconds, CancellationToken cancellation, Func<bool> interrupted)
    {
        if (_mode == WasiClockMode.Deterministic)
        {
            _virtualNs += nanoseconds;
            return;
        }

        var duration = TimeSpan.FromTicks((long)Math.Min(nanoseconds / NanosPerTick, (ulong)(TimeSpan.MaxValue.Ticks / 2)));
        var start = Stopwatch.GetTimestamp();
        var slice = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            if (cancellation.IsCancellationRequested || interrupted())
            {
                throw new WasmTrapException(TrapKind.Timeout, "execution timed out or was cancelled while sleeping in poll_oneoff");
            }

            var remaining = duration - Stopwatch.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            cancellation.WaitHandle.WaitOne(remaining < slice ? remaining : slice);
        }
    }
}
