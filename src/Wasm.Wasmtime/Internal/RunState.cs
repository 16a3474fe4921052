using System.Diagnostics;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Wasi;
using Wt = global::Wasmtime;

namespace Xmbl.Cluster.Wasm.Wasmtime.Internal;

/// <summary>
/// One run's host state, kept as the Wasmtime store's data: the WASI context, the clock deadline, the store (for fuel)
/// and the guest's memory, and the exception a host call threw.
/// </summary>
internal sealed unsafe class RunState : IWasiCaller, IWasmHostCall
{
    // Enough for every WASI function (9 parameters) and ordinary host imports; larger ones get their own arrays.
    private const int BufferLength = 16;

    private readonly WasiContext _wasi;
    private readonly bool _fuelMetering;
    private readonly long? _fuelLimit;
    private readonly long _deadline;
    private readonly CancellationToken _cancellation;
    private readonly WasmValue[] _args = new WasmValue[BufferLength];
    private readonly WasmValue[] _results = new WasmValue[BufferLength];
    private Wt.Memory? _memory;
    private bool _memoryLooked;
    private Exception? _fault;

    public RunState(WasiContext wasi, StoreLimits limits, bool fuelMetering)
    {
        _wasi = wasi;
        _fuelMetering = fuelMetering;
        _fuelLimit = limits.Fuel;
        _cancellation = limits.Cancellation;
        _deadline = limits.WallClock is { } wall
            ? Stopwatch.GetTimestamp() + (long)Math.Min(wall.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2)
            : long.MaxValue;
    }

    /// <summary>The run's store; set right after it is created.</summary>
    public Wt.Store? Store { get; set; }

    /// <summary>The run's host functions, in the order the linker defined them.</summary>
    public IReadOnlyList<WasmHostFunction> HostFunctions { get; set; } = [];

    /// <summary>Fuel charged by host calls when fuel metering is off (then the only fuel counted).</summary>
    public long HostFuel { get; private set; }

    public int? MemoryPages => CurrentMemory() is { } memory ? (int)memory.GetSize() : null;

    public long? FuelRemaining => _fuelLimit is null ? null
        : _fuelMetering ? (long)Store!.Fuel
        : Math.Max(0, _fuelLimit.Value - HostFuel);

    public static RunState Of(Wt.Caller caller) => (RunState)caller.GetData()!;

    /// <summary>Called by Wasmtime at every epoch tick while the guest runs: traps at the deadline or on cancellation.</summary>
    public ulong OnEpoch(Wt.Store store)
    {
        if (_cancellation.IsCancellationRequested || Stopwatch.GetTimestamp() >= _deadline)
        {
            throw Record(new WasmTrapException(TrapKind.Timeout));
        }

        return 1;
    }

    /// <summary>The host exception that ended the run (Wasmtime wraps it), or null for a trap of the guest's own.</summary>
    public Exception? TakeFault(Wt.WasmtimeException ex) => ex.InnerException ?? _fault;

    public void CallWasi(Wt.Caller caller, int index, ReadOnlySpan<Wt.ValueBox> args, Span<Wt.ValueBox> results)
    {
        LookUpMemory(caller);
        var parameters = WasiContext.Functions[index].Type.Parameters;
        for (var i = 0; i < args.Length; i++)
        {
            _args[i] = Values.FromBox(args[i], parameters[i]);
        }

        try
        {
            _wasi.Call(index, this, _args.AsSpan(0, args.Length), _results.AsSpan(0, results.Length));
        }
        catch (Exception ex)
        {
            throw Record(ex);
        }

        if (results.Length > 0)
        {
            results[0] = _results[0].I32;
        }
    }

    public void CallHost(Wt.Caller caller, int index, ReadOnlySpan<Wt.ValueBox> args, Span<Wt.ValueBox> results)
    {
        var function = HostFunctions[index];
        LookUpMemory(caller);
        var parameters = function.Type.Parameters;
        var values = args.Length <= BufferLength ? _args : new WasmValue[args.Length];
        var returned = results.Length <= BufferLength ? _results : new WasmValue[results.Length];
        for (var i = 0; i < args.Length; i++)
        {
            values[i] = Values.FromBox(args[i], parameters[i]);
        }

        try
        {
            function.Callback(this, values.AsSpan(0, args.Length), returned.AsSpan(0, results.Length));
        }
        catch (Exception ex)
        {
            throw Record(ex);
        }

        for (var i = 0; i < results.Length; i++)
        {
            results[i] = Values.ToBox(returned[i]);
        }
    }

    public bool TryGetMemory(out nint baseAddress, out ulong length)
    {
        if (CurrentMemory() is not { } memory)
        {
            baseAddress = 0;
            length = 0;
            return false;
        }

        baseAddress = memory.GetPointer();
        length = (ulong)memory.GetLength();
        return true;
    }

    public Span<byte> Memory(uint pointer, int length)
    {
        var memory = CurrentMemory() ?? throw new WasmTrapException(TrapKind.MemoryOutOfBounds, "the module exports no memory");
        if (length < 0 || (ulong)pointer + (ulong)length > (ulong)memory.GetLength())
        {
            throw new WasmTrapException(TrapKind.MemoryOutOfBounds);
        }

        return new Span<byte>((byte*)memory.GetPointer() + pointer, length);
    }

    public void ConsumeFuel(long units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        if (!_fuelMetering)
        {
            HostFuel += units;
            if (_fuelLimit is { } limit && HostFuel > limit)
            {
                throw new WasmTrapException(TrapKind.OutOfFuel);
            }

            return;
        }

        // As in the managed store: a charge larger than what is left uses it all and traps.
        // Fuel is the store's: Wasmtime's code saves its counter there before calling out and reloads it after.
        var store = Store!;
        var left = store.Fuel;
        if ((ulong)units > left)
        {
            store.Fuel = 0;
            throw new WasmTrapException(TrapKind.OutOfFuel);
        }

        store.Fuel = left - (ulong)units;
    }

    private Exception Record(Exception ex)
    {
        _fault ??= ex;
        return ex;
    }

    private Wt.Memory? CurrentMemory() => _memory;

    /// <summary>Finds the exported memory on the first host call (the caller is only reachable inside one); the handle
    /// stays valid for the store's life, while its address and size are read on every use because memory.grow may move
    /// or extend it.</summary>
    private void LookUpMemory(Wt.Caller caller)
    {
        if (!_memoryLooked)
        {
            _memory = caller.GetMemory("memory");
            _memoryLooked = true;
        }
    }
}
