namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Per-job execution state: the limits, the fuel counter, the call-depth (stack) budget and the interrupt flag shared
/// by all instances created in it. A store is single-threaded: run one call at a time. Dispose it when the run is over:
/// that releases the linear memories its instances created at once, instead of whenever the GC finalizes them.
/// </summary>
public sealed class Store : IDisposable
{
    // The store whose guest code runs innermost on this thread: a store entered from inside one of its host functions
    // (a nested job) gets no more stack budget than that caller has left, so the thread's stack bounds them together.
    [ThreadStatic]
    private static Store? t_running;

    // Unlimited fuel still counts down from here so FuelConsumed stays meaningful.
    private const long UnlimitedFuel = long.MaxValue / 4;

    // Hot fields read by generated code (names are part of the translator's contract).
    internal long FuelLeft;
    internal int DepthLeft;
    internal volatile int Interrupt;

    // Results of multi-value calls and argument/result staging for Function.Invoke.
    internal ulong[] ResultBits = new ulong[16];
    internal object?[] ResultRefs = new object?[16];

    private readonly List<Memory> _memories = [];
    private long _fuelAdded;
    private int _activeCalls;
    private WasmValue[]?[] _hostFramePool = new WasmValue[]?[17];

    /// <summary>Creates a store.</summary>
    /// <param name="engine">The engine whose modules are instantiated in this store.</param>
    /// <param name="limits">Resource limits; <see cref="StoreLimits.Default"/> when null.</param>
    /// <param name="data">Host data available to host functions through <see cref="Caller.Store"/>.</param>
    public Store(WasmEngine engine, StoreLimits? limits = null, object? data = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engine = engine;
        Limits = limits ?? StoreLimits.Default;
        Data = data;
        var fuel = Limits.Fuel ?? UnlimitedFuel;
        FuelLeft = fuel;
        _fuelAdded = fuel;
        DepthLeft = Limits.MaxCallDepth;
    }

    /// <summary>The engine.</summary>
    public WasmEngine Engine { get; }

    /// <summary>The limits.</summary>
    public StoreLimits Limits { get; }

    /// <summary>Host data.</summary>
    public object? Data { get; }

    /// <summary>Fuel consumed so far (zero when the engine does not meter fuel, apart from host charges).</summary>
    public long FuelConsumed => _fuelAdded - Math.Max(FuelLeft, 0);

    /// <summary>Fuel left, or null when the store has no fuel limit.</summary>
    public long? FuelRemaining => Limits.Fuel is null ? null : Math.Max(FuelLeft, 0);

    /// <summary>Adds fuel.</summary>
    /// <param name="units">Units to add, at least zero.</param>
    public void AddFuel(long units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        FuelLeft += units;
        _fuelAdded += units;
    }

    /// <summary>Charges fuel (host functions call this for work they do on the guest's behalf).</summary>
    /// <param name="units">Units to charge, at least zero.</param>
    /// <exception cref="WasmTrapException">Not enough fuel is left (<see cref="TrapKind.OutOfFuel"/>).</exception>
    public void ConsumeFuel(long units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        // Guest code may have overdrawn since its last check (it is checked only at function entries and loop
        // headers); a host charge sees that as nothing left, as Wasmtime's host functions do.
        if (units > Math.Max(FuelLeft, 0))
        {
            FuelLeft = Math.Min(FuelLeft, 0);
            throw new WasmTrapException(TrapKind.OutOfFuel);
        }

        FuelLeft -= units;
    }

    /// <summary>
    /// Releases the linear memories created by instantiations in this store (memories the host created and defined
    /// stay the host's). Instances of the store must not be used afterwards; their memory accesses trap.
    /// </summary>
    /// <exception cref="InvalidOperationException">Guest code of the store is running.</exception>
    public void Dispose()
    {
        if (_activeCalls != 0)
        {
            throw new InvalidOperationException("The store is running guest code; dispose it after the call returns.");
        }

        foreach (var memory in _memories)
        {
            memory.Dispose();
        }

        _memories.Clear();
    }

    internal void Own(Memory memory) => _memories.Add(memory);

    internal void EnsureResultCapacity(int count)
    {
        if (count > ResultBits.Length)
        {
            var size = Math.Max(count, ResultBits.Length * 2);
            Array.Resize(ref ResultBits, size);
            Array.Resize(ref ResultRefs, size);
        }
    }

    internal WasmValue[] RentHostFrame(int size)
    {
        if (size < _hostFramePool.Length && _hostFramePool[size] is { } frame)
        {
            _hostFramePool[size] = null;
            return frame;
        }

        return size == 0 ? [] : new WasmValue[size];
    }

    internal void ReturnHostFrame(WasmValue[] frame)
    {
        if (frame.Length != 0 && frame.Length < _hostFramePool.Length)
        {
            _hostFramePool[frame.Length] = frame;
        }
    }

    /// <summary>Marks the start of a call from the host; the outermost one arms the wall clock and cancellation.</summary>
    internal CallScope EnterCall()
    {
        var outermost = _activeCalls++ == 0;
        var scope = new CallScope(this, DepthLeft, outermost, t_running);
        if (outermost)
        {
            // Deterministic: the caller's budget is what its code published when it called the host.
            var available = t_running is { } caller ? caller.DepthLeft - StackBudget.HostReentryUnits : StackBudget.ThreadUnits;
            DepthLeft = Math.Min(Limits.MaxCallDepth, available);
            Interrupt = 0;
            var token = Limits.Cancellation;
            if (token.IsCancellationRequested)
            {
                Interrupt = 1;
            }
            else
            {
                if (token.CanBeCanceled)
                {
                    scope.Registration = token.UnsafeRegister(static s => ((Store)s!).Interrupt = 1, this);
                }

                if (Limits.WallClock is { } budget)
                {
                    scope.Timer = new Timer(static s => ((Store)s!).Interrupt = 1, this, budget, Timeout.InfiniteTimeSpan);
                }
            }
        }

        else
        {
            // A host function of this store calls back into it: its frames are charged here.
            DepthLeft -= StackBudget.HostReentryUnits;
        }

        t_running = this;
        return scope;
    }

    internal void ExitCall(in CallScope scope)
    {
        _activeCalls--;
        DepthLeft = scope.SavedDepth;
        t_running = scope.Running;
        if (scope.Outermost)
        {
            scope.Registration.Dispose();
            scope.Timer?.Dispose();
            Interrupt = 0;
        }
    }

    /// <summary>Bookkeeping of one host-to-guest call.</summary>
    internal struct CallScope
    {
        public CallScope(Store store, int savedDepth, bool outermost, Store? running)
        {
            Store = store;
            SavedDepth = savedDepth;
            Outermost = outermost;
            Running = running;
        }

        public Store Store;
        public int SavedDepth;
        public bool Outermost;
        public Store? Running;
        public CancellationTokenRegistration Registration;
        public Timer? Timer;
    }
}
