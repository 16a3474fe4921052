using System.Diagnostics;
using Xmbl.Cluster.Wasm.Wasi;

namespace Xmbl.Cluster.Wasm.Engines.Managed;

/// <summary>Our own engine (<c>src/Wasm</c>, WebAssembly to .NET IL) behind the seam.</summary>
public sealed class ManagedWasmEngine : IWasmEngine
{
    /// <summary>Creates the engine with fuel metering and NaN canonicalization on.</summary>
    /// <param name="options">Engine options; null for the defaults.</param>
    public ManagedWasmEngine(WasmEngineOptions? options = null)
    {
        Engine = new WasmEngine(options ?? new WasmEngineOptions { FuelMetering = true });
    }

    /// <summary>The engine underneath, for code that needs more than the seam (the spec tests).</summary>
    public WasmEngine Engine { get; }

    /// <inheritdoc/>
    public string Name => WasmEngineNames.Managed;

    /// <inheritdoc/>
    public string Version { get; } = typeof(WasmEngine).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <inheritdoc/>
    /// <remarks>None: WebAssembly 2.0 without SIMD (<see cref="WasmFeatures.Simd"/>).</remarks>
    public IReadOnlyList<string> Features { get; } = [];

    /// <inheritdoc/>
    public IWasmModule Compile(ReadOnlyMemory<byte> wasm)
    {
        try
        {
            return new ManagedWasmModule(this, Engine.Compile(wasm));
        }
        catch (WasmCompileException ex)
        {
            throw new WasmModuleRejectedException(ex.Message, ex);
        }
    }

    /// <inheritdoc/>
    public WasmRunResult Run(IWasmModule module, WasmRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (module is not ManagedWasmModule { Engine: var owner } managed || !ReferenceEquals(owner, this))
        {
            throw new ArgumentException("The module was compiled by another engine.", nameof(module));
        }

        using var store = new Store(Engine, request.Limits); // releases the run's linear memory when it ends
        using var wasi = new WasiContext(request.Wasi);
        Instance? instance = null;
        var instantiateTime = TimeSpan.Zero;
        var started = Stopwatch.GetTimestamp();
        WasmRunResult End(WasmRunEnd end, int exitCode = 0, IReadOnlyList<WasmValue>? results = null, TrapKind? trap = null, string? message = null, Exception? host = null) =>
            new(end, exitCode, results ?? [], store.FuelConsumed, trap, message, host, instance?.GetMemory("memory")?.Pages,
                instantiateTime, instance is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(started) - instantiateTime);

        try
        {
            var linker = wasi.AddToLinker(new Linker(Engine));
            foreach (var function in request.HostFunctions)
            {
                var callback = function.Callback;
                linker.Define(function.Module, function.Name, function.Type, (caller, args, results) => callback(new HostCall(caller), args, results));
            }

            instance = linker.Instantiate(store, managed.Compiled);
            instantiateTime = Stopwatch.GetElapsedTime(started);
            if (request.Export is null)
            {
                if (instance.GetFunction("_start") is not { Type: { Parameters.Count: 0, Results.Count: 0 } })
                {
                    return End(WasmRunEnd.NoEntry, message: "the module exports no _start function of type () -> (), so it is not a WASI command");
                }

                return End(WasmRunEnd.Exited, wasi.RunCommand(instance));
            }

            wasi.InitializeReactor(instance);
            if (instance.GetFunction(request.Export) is not { } export)
            {
                return End(WasmRunEnd.NoEntry, message: $"the module exports no function '{request.Export}'");
            }

            if (!WasmArguments.Match(export.Type, request.Arguments, out var problem))
            {
                return End(WasmRunEnd.NoEntry, message: problem);
            }

            return End(WasmRunEnd.Returned, results: export.Invoke([.. request.Arguments]));
        }
        catch (WasmExitException exit)
        {
            // proc_exit from the start function, _initialize or an export.
            return End(WasmRunEnd.Exited, exit.ExitCode);
        }
        catch (WasmTrapException trap)
        {
            return End(WasmRunEnd.Trapped, trap: trap.Kind, message: trap.Message, host: trap.Kind == TrapKind.HostError ? trap.InnerException : null);
        }
        catch (WasmLinkException ex)
        {
            return End(WasmRunEnd.LinkFailed, message: ex.Message);
        }
    }

    /// <summary>Nothing to release: compiled code is collectible and freed with its modules.</summary>
    public void Dispose()
    {
    }

    private sealed class HostCall(Caller caller) : IWasmHostCall
    {
        public int? MemoryPages => caller.GetMemory()?.Pages;

        public long? FuelRemaining => caller.Store.FuelRemaining;

        public Span<byte> Memory(uint pointer, int length) =>
            (caller.GetMemory() ?? throw new WasmTrapException(TrapKind.MemoryOutOfBounds, "the module exports no memory")).GetSpan(pointer, length);

        public void ConsumeFuel(long units) => caller.Store.ConsumeFuel(units);
    }
}
