using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasmtime.Internal;
using Wt = global::Wasmtime;

namespace Xmbl.Cluster.Wasm.Wasmtime;

/// <summary>
/// Wasmtime (Cranelift) behind the engine seam: fuel, store limits for memory and tables, wall-clock limits and
/// cancellation through epoch interruption (one timer thread per engine), NaN canonicalization, SIMD, and the project's
/// deterministic WASI host defined on Wasmtime's linker. Compiled modules are cached in memory and, with
/// <see cref="WasmtimeEngineOptions.CacheDirectory"/>, serialized to disk so a restart does not compile them again.
/// </summary>
public sealed class WasmtimeEngine : IWasmEngine
{
    /// <summary>Tables one run may create (each bounded by <see cref="StoreLimits.MaxTableElements"/>).</summary>
    public const int MaxTablesPerRun = 100;

    /// <summary>The largest <see cref="WasmtimeEngineOptions.MaxWasmStackBytes"/> Wasmtime accepts (its async stack size).</summary>
    public const int MaxWasmStackLimit = 2 << 20;

    /// <summary>Distinct sets of host functions whose linkers are kept.</summary>
    private const int MaxCachedHostLinkers = 16;

    private readonly WasmtimeEngineOptions _options;
    private readonly Wt.Engine _engine;
    private readonly Wt.Linker _wasiLinker;
    private readonly string _configurationKey;
    // Lazy: nodes that first run a module at the same moment compile it (or load it from disk) once, not once each.
    private readonly ConcurrentDictionary<string, Lazy<WasmtimeModule>> _modules = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Wt.Linker> _hostLinkers = new(StringComparer.Ordinal);
    private readonly Thread _epochThread;
    private readonly ManualResetEventSlim _stop = new();
    private long _compiledCount;
    private long _loadedCount;

    /// <summary>Creates the engine and starts its epoch timer thread.</summary>
    /// <param name="options">Settings; null for the defaults (no disk cache).</param>
    public WasmtimeEngine(WasmtimeEngineOptions? options = null)
    {
        _options = options ?? new WasmtimeEngineOptions();
        if (_options.MaxWasmStackBytes is < 64 << 10 or > MaxWasmStackLimit)
        {
            // Wasmtime aborts the process (a panic) on a stack size above its async stack size.
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxWasmStackBytes must be between 64 KiB and {MaxWasmStackLimit} bytes.");
        }

        if (_options.EpochTick <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "EpochTick must be positive.");
        }

        Version = typeof(Wt.Engine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? typeof(Wt.Engine).Assembly.GetName().Version?.ToString(3) ?? "unknown";
        using (var config = CreateConfig(_options))
        {
            _engine = new Wt.Engine(config);
        }

        _configurationKey = ConfigurationKey(Version, _options);
        _wasiLinker = new Wt.Linker(_engine);
        foreach (var function in WasiContext.Functions)
        {
            var index = function.Index;
            _wasiLinker.DefineFunction(
                WasiContext.ModuleName,
                function.Name,
                (caller, args, results) => RunState.Of(caller).CallWasi(caller, index, args, results),
                Kinds(function.Type.Parameters),
                Kinds(function.Type.Results));
        }

        if (_options.CacheDirectory is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        _epochThread = new Thread(TickEpochs) { IsBackground = true, Name = "wasmtime-epoch" };
        _epochThread.Start();
    }

    /// <inheritdoc/>
    public string Name => WasmEngineNames.Wasmtime;

    /// <inheritdoc/>
    public string Version { get; }

    /// <inheritdoc/>
    /// <remarks>Fixed-width SIMD, switched on in the engine's configuration.</remarks>
    public IReadOnlyList<string> Features { get; } = [WasmFeatures.Simd];

    /// <summary>Modules compiled by this engine instance (not found in memory or on disk).</summary>
    public long CompiledCount => Interlocked.Read(ref _compiledCount);

    /// <summary>Modules loaded from <see cref="WasmtimeEngineOptions.CacheDirectory"/> instead of being compiled.</summary>
    public long LoadedFromDiskCount => Interlocked.Read(ref _loadedCount);

    /// <inheritdoc/>
    public IWasmModule Compile(ReadOnlyMemory<byte> wasm)
    {
        ObjectDisposedException.ThrowIf(_stop.IsSet, this);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(wasm.Span));
        if (_options.CompiledModuleCacheSize <= 0)
        {
            return new WasmtimeModule(this, sha256, LoadOrCompile(sha256, wasm.Span));
        }

        if (!_modules.TryGetValue(sha256, out var entry))
        {
            if (_modules.Count >= _options.CompiledModuleCacheSize)
            {
                // Evicted modules are not disposed: a running job may still use them; the finalizer frees them.
                _modules.Clear();
            }

            // The bytes stay valid while the value is made: it is made inside this call, or another caller's.
            entry = _modules.GetOrAdd(sha256, key => new Lazy<WasmtimeModule>(
                () => new WasmtimeModule(this, key, LoadOrCompile(key, wasm.Span)), LazyThreadSafetyMode.ExecutionAndPublication));
        }

        try
        {
            return entry.Value;
        }
        catch
        {
            // A refused module is not cached: the next upload gets its own error.
            _modules.TryRemove(new KeyValuePair<string, Lazy<WasmtimeModule>>(sha256, entry));
            throw;
        }
    }

    /// <inheritdoc/>
    public WasmRunResult Run(IWasmModule module, WasmRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (module is not WasmtimeModule { Engine: var owner } compiled || !ReferenceEquals(owner, this))
        {
            throw new ArgumentException("The module was compiled by another engine.", nameof(module));
        }

        // Guest code runs on the calling thread's native stack: a large-stack guest thread has room for the wasm stack
        // and the host frames of nested runs, so deep recursion ends in a trap, never in a stack overflow of the process.
        return GuestThreads.RunAsync(() => RunCore(compiled, request)).GetAwaiter().GetResult();
    }

    /// <summary>Stops the epoch thread and releases the engine.</summary>
    public void Dispose()
    {
        if (_stop.IsSet)
        {
            return;
        }

        _stop.Set();
        _epochThread.Join();
        foreach (var linker in _hostLinkers.Values)
        {
            linker.Dispose();
        }

        _wasiLinker.Dispose();
        _engine.Dispose();
    }

    /// <summary>The Wasmtime configuration of every engine with these options (the spec tests run on it too).</summary>
    internal static Wt.Config CreateConfig(WasmtimeEngineOptions options)
    {
        // WebAssembly 2.0 plus fixed-width SIMD; proposals whose results may differ between machines (relaxed SIMD,
        // threads) or that the managed engine lacks are off, so a module means the same on every node.
        return new Wt.Config()
            .WithFuelConsumption(options.FuelMetering)
            .WithEpochInterruption(true)
            .WithCraneliftNaNCanonicalization(true)
            .WithSIMD(true)
            .WithRelaxedSIMD(false, false)
            .WithWasmThreads(false)
            .WithMemory64(false)
            .WithMultiMemory(false)
            .WithGc(false)
            .WithFunctionReferences(false)
            .WithExceptions(false)
            .WithTailCalls(false)
            .WithWideArithmetic(false)
            .WithOptimizationLevel(Wt.OptimizationLevel.Speed)
            .WithMaximumStackSize(options.MaxWasmStackBytes);
    }

    internal static Wt.ValueKind[] Kinds(IReadOnlyList<WasmValueType> types) => [.. types.Select(WasmtimeModule.ToValueKind)];

    private static string ConfigurationKey(string version, WasmtimeEngineOptions options)
    {
        var text = $"wasmtime {version} {RuntimeInformation.ProcessArchitecture} fuel={options.FuelMetering} epoch nan-canon simd " +
            $"no-relaxed-simd no-threads no-memory64 no-multi-memory no-gc no-func-refs no-exceptions no-tail-calls no-wide-arithmetic stack={options.MaxWasmStackBytes} opt=speed";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    private static string Flatten(string message) =>
        message.Replace("\n\nCaused by:\n    ", ": ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Trim();

    private static TrapKind ToTrapKind(Wt.TrapCode? code) => code switch
    {
        Wt.TrapCode.StackOverflow => TrapKind.CallStackExhausted,
        Wt.TrapCode.MemoryOutOfBounds or Wt.TrapCode.HeapMisaligned => TrapKind.MemoryOutOfBounds,
        Wt.TrapCode.TableOutOfBounds => TrapKind.TableOutOfBounds,
        Wt.TrapCode.IndirectCallToNull => TrapKind.UninitializedElement, // what the managed engine reports for a null table entry
        Wt.TrapCode.BadSignature => TrapKind.IndirectCallTypeMismatch,
        Wt.TrapCode.IntegerOverflow => TrapKind.IntegerOverflow,
        Wt.TrapCode.IntegerDivisionByZero => TrapKind.IntegerDivideByZero,
        Wt.TrapCode.BadConversionToInteger => TrapKind.InvalidConversionToInteger,
        Wt.TrapCode.Unreachable => TrapKind.Unreachable,
        Wt.TrapCode.Interrupt => TrapKind.Timeout,
        Wt.TrapCode.OutOfFuel => TrapKind.OutOfFuel,
        _ => TrapKind.HostError,
    };

    /// <summary>
    /// The WASI linker plus the run's host functions. Linkers are cached by the host functions' names and signatures
    /// (a job run always has the same one), and their callbacks find the run's bodies in the store's <see cref="RunState"/>,
    /// so a run does not clone and define a linker.
    /// </summary>
    private Wt.Linker LinkerFor(IReadOnlyList<WasmHostFunction> functions)
    {
        if (functions.Count == 0)
        {
            return _wasiLinker;
        }

        var key = string.Join("|", functions.Select(f => $"{f.Module}\u0000{f.Name}\u0000{f.Type}"));
        if (_hostLinkers.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var linker = _wasiLinker.Clone();
        for (var i = 0; i < functions.Count; i++)
        {
            var index = i;
            var function = functions[i];
            linker.DefineFunction(
                function.Module,
                function.Name,
                (caller, args, results) => RunState.Of(caller).CallHost(caller, index, args, results),
                Kinds(function.Type.Parameters),
                Kinds(function.Type.Results));
        }

        if (_hostLinkers.Count >= MaxCachedHostLinkers || !_hostLinkers.TryAdd(key, linker))
        {
            // Rare: more distinct host-function sets than the cache holds, or another run added the same one. The linker
            // is only dropped once no run can be instantiating through it, so it is left to its finalizer.
            return _hostLinkers.TryGetValue(key, out var raced) ? raced : linker;
        }

        return linker;
    }

    private void TickEpochs()
    {
        while (!_stop.Wait(_options.EpochTick))
        {
            _engine.IncrementEpoch();
        }
    }

    private Wt.Module LoadOrCompile(string sha256, ReadOnlySpan<byte> wasm)
    {
        var path = _options.CacheDirectory is { } directory ? Path.Combine(directory, $"{sha256}-{_configurationKey}.cwasm") : null;
        if (path is not null && File.Exists(path))
        {
            try
            {
                var loaded = Wt.Module.DeserializeFile(_engine, sha256, path);
                Interlocked.Increment(ref _loadedCount);
                return loaded;
            }
            catch (Wt.WasmtimeException)
            {
                // Damaged, or written by another Wasmtime build: compile again and replace it.
                TryDelete(path);
            }
        }

        Wt.Module module;
        try
        {
            module = Wt.Module.FromBytes(_engine, sha256, wasm);
        }
        catch (Wt.WasmtimeException ex)
        {
            throw new WasmModuleRejectedException(Flatten(ex.Message), ex);
        }

        Interlocked.Increment(ref _compiledCount);
        if (path is not null)
        {
            Save(path, module.Serialize());
        }

        return module;
    }

    /// <summary>Writes a temporary file and renames it into place, so a reader never loads a partial module.</summary>
    private static void Save(string path, byte[] bytes)
    {
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
            // A full or read-only disk costs a compilation after restart, nothing more.
        }
        catch (UnauthorizedAccessException)
        {
        }
        finally
        {
            TryDelete(temp);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private WasmRunResult RunCore(WasmtimeModule module, WasmRunRequest request)
    {
        var limits = request.Limits;
        using var wasi = new WasiContext(request.Wasi);
        var state = new RunState(wasi, limits, _options.FuelMetering);
        using var store = new Wt.Store(_engine, state);
        state.Store = store;
        store.SetLimits((long)limits.MaxMemoryPages * Memory.PageSize, (uint)limits.MaxTableElements, 1, MaxTablesPerRun, 1);
        var initialFuel = (ulong)(limits.Fuel ?? long.MaxValue);
        if (_options.FuelMetering)
        {
            store.Fuel = initialFuel;
        }

        store.SetEpochDeadline(1);
        store.SetEpochDeadlineCallback(state.OnEpoch);

        Wt.Instance? instance = null;
        var instantiateTime = TimeSpan.Zero;
        var started = Stopwatch.GetTimestamp();
        WasmRunResult End(WasmRunEnd end, int exitCode = 0, IReadOnlyList<WasmValue>? results = null, TrapKind? trap = null, string? message = null, Exception? host = null)
        {
            var fuel = _options.FuelMetering ? (long)(initialFuel - store.Fuel) : state.HostFuel;
            var pages = instance?.GetMemory("memory")?.GetSize();
            return new(end, exitCode, results ?? [], fuel, trap, message, host, pages is null ? null : (int)pages,
                instantiateTime, instance is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(started) - instantiateTime);
        }

        try
        {
            state.HostFunctions = request.HostFunctions;
            instance = LinkerFor(request.HostFunctions).Instantiate(store, module.Module);
            instantiateTime = Stopwatch.GetElapsedTime(started);
            if (request.Export is null)
            {
                if (instance.GetFunction("_start") is not { Parameters.Count: 0, Results.Count: 0 } start)
                {
                    return End(WasmRunEnd.NoEntry, message: "the module exports no _start function of type () -> (), so it is not a WASI command");
                }

                try
                {
                    start.Invoke();
                }
                finally
                {
                    wasi.Flush();
                }

                return End(WasmRunEnd.Exited, WasiContext.SuccessExitCode);
            }

            if (instance.GetFunction("_initialize") is { } initialize)
            {
                try
                {
                    initialize.Invoke();
                }
                finally
                {
                    wasi.Flush();
                }
            }

            var export = instance.GetFunction(request.Export);
            var type = module.Exports.FirstOrDefault(e => e.Kind == WasmExternKind.Function && string.Equals(e.Name, request.Export, StringComparison.Ordinal))?.FunctionType;
            if (export is null || type is null)
            {
                return End(WasmRunEnd.NoEntry, message: $"the module exports no function '{request.Export}'");
            }

            if (!WasmArguments.Match(type, request.Arguments, out var problem))
            {
                return End(WasmRunEnd.NoEntry, message: problem);
            }

            var boxes = new Wt.ValueBox[request.Arguments.Count];
            for (var i = 0; i < boxes.Length; i++)
            {
                boxes[i] = Values.ToBox(request.Arguments[i]);
            }

            var returned = export.Invoke(boxes);
            return End(WasmRunEnd.Returned, results: Values.FromResults(returned, type.Results));
        }
        catch (Wt.WasmtimeException ex)
        {
            var fault = state.TakeFault(ex);
            return fault switch
            {
                WasmExitException exit => End(WasmRunEnd.Exited, exit.ExitCode),
                WasmTrapException trap => End(WasmRunEnd.Trapped, trap: trap.Kind, message: trap.Message, host: trap.Kind == TrapKind.HostError ? trap.InnerException : null),
                not null => End(WasmRunEnd.Trapped, trap: TrapKind.HostError, message: fault.Message, host: fault),
                null when ex is Wt.TrapException t => End(WasmRunEnd.Trapped, trap: ToTrapKind(t.Type), message: WasmTrapException.DefaultMessage(ToTrapKind(t.Type))),
                null when instance is null => Instantiation(ex),
                null => End(WasmRunEnd.Trapped, trap: TrapKind.HostError, message: Flatten(ex.Message)),
            };
        }

        WasmRunResult Instantiation(Wt.WasmtimeException ex)
        {
            // Wasmtime reports limits and link failures at instantiation as errors, not traps; the managed engine traps
            // MemoryLimitExceeded / TableLimitExceeded and fails to link, and so do we.
            var message = Flatten(ex.Message);
            if (message.Contains("exceeds memory limits", StringComparison.Ordinal) || message.Contains("memory count too high", StringComparison.Ordinal))
            {
                return End(WasmRunEnd.Trapped, trap: TrapKind.MemoryLimitExceeded, message: WasmTrapException.DefaultMessage(TrapKind.MemoryLimitExceeded));
            }

            if (message.Contains("exceeds table limits", StringComparison.Ordinal) || message.Contains("table count too high", StringComparison.Ordinal))
            {
                return End(WasmRunEnd.Trapped, trap: TrapKind.TableLimitExceeded, message: WasmTrapException.DefaultMessage(TrapKind.TableLimitExceeded));
            }

            if (message.Contains("import", StringComparison.Ordinal))
            {
                return End(WasmRunEnd.LinkFailed, message: message);
            }

            return End(WasmRunEnd.Trapped, trap: TrapKind.HostError, message: message);
        }
    }
}
