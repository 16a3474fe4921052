using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Wasm;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Runs jobs in <c>src/Wasm</c>: WASI preview1 with deterministic clocks and randomness seeded from the job id,
/// fuel, memory and wall-clock limits, output capped, and the <c>xmbl.run_module</c> host import for nested jobs.
/// </summary>
/// <remarks>
/// <c>xmbl.run_module(hash_ptr, hash_len, input_ptr, input_len, output_ptr, output_cap) -> i64</c> runs the module
/// whose hex SHA-256 is at <c>hash_ptr</c> as a WASI command with the input on stdin, inside the caller's remaining
/// fuel (the child's fuel is charged to the caller), and copies up to <c>output_cap</c> bytes of its stdout to
/// <c>output_ptr</c>. It returns the child's full output length when the child exited with 0, and otherwise
/// <see cref="NestedUnknownModule"/>, <see cref="NestedTooDeep"/>, <see cref="NestedFailed"/> or
/// <see cref="NestedNonZeroExit"/>.
/// </remarks>
internal sealed class WasmJobRunner(ModuleStore modules, JobObjects objects, IOptions<ComputeOptions> options) : IJobRunner
{
    /// <summary>The import module of the host functions.</summary>
    public const string HostModule = "xmbl";

    /// <summary>The host function that runs a nested job.</summary>
    public const string RunModuleFunction = "run_module";

    public const long NestedUnknownModule = -1;
    public const long NestedTooDeep = -2;
    public const long NestedFailed = -3;
    public const long NestedNonZeroExit = -4;

    private static readonly FuncType RunModuleType = new(
        [WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32],
        [WasmValueType.I64]);

    private readonly ComputeOptions _options = options.Value;

    public async Task<RunResult> RunAsync(JobWork work, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        var spec = work.Spec;
        CompiledModule compiled;
        try
        {
            compiled = await modules.GetCompiledAsync(spec.ModuleHash, ct);
        }
        catch (WasmException ex)
        {
            return new RunResult([], ExitCodes.Invalid, 0, RunOutcome.Invalid, "the module does not compile: " + ex.Message);
        }

        InMemoryWasiFileSystem? inputs;
        try
        {
            inputs = await objects.LoadInputsAsync(spec, ct);
        }
        catch (JobInputException ex)
        {
            return new RunResult([], ExitCodes.Invalid, 0, RunOutcome.Invalid, ex.Message);
        }

        var run = new RunContext(work.JobId, ct, inputs, spec.Limits.WallTime);
        // On a guest thread from the start: the run's wasm calls need no hand-off and no pool thread waits for them.
        return await GuestThreads.RunAsync(() => Run(run, compiled, spec.Entry, spec.Args, spec.Env, spec.Stdin, spec.Limits.Fuel, spec.Limits.MemoryPages, spec.Limits.WallTime, JobIds.Seed(work.JobId), depth: 0));
    }

    private RunResult Run(
        RunContext run,
        CompiledModule compiled,
        string entry,
        IReadOnlyList<string> args,
        IReadOnlyList<KeyValuePair<string, string>> env,
        byte[] stdin,
        long fuel,
        int memoryPages,
        TimeSpan wallTime,
        ulong seed,
        int depth)
    {
        var output = new CappedOutputStream(_options.MaxOutputBytes);
        var limits = new StoreLimitsBuilder().Fuel(Math.Max(0, fuel)).MemoryPages(memoryPages).WallClock(wallTime).Cancellation(run.Cancellation).Build();
        using var store = new Store(compiled.Engine, limits); // releases the run's linear memory as soon as it ends
        var wasiConfig = new WasiConfiguration { Stdin = new MemoryStream(stdin, writable: false), Stdout = output, Cancellation = run.Cancellation }
            .MakeDeterministic(seed)
            .AddArgument(entry == JobSpec.WasiStart ? "job" : entry);
        if (entry == JobSpec.WasiStart)
        {
            foreach (var arg in args)
            {
                wasiConfig.AddArgument(arg);
            }
        }

        foreach (var (name, value) in env)
        {
            wasiConfig.AddEnvironment(name, value);
        }

        if (run.Inputs is not null)
        {
            wasiConfig.AddPreopen(JobObjects.InputMount, run.Inputs);
        }

        using var wasi = new WasiContext(wasiConfig);
        try
        {
            var linker = wasi.AddToLinker(new Linker(compiled.Engine));
            linker.Define(HostModule, RunModuleFunction, RunModuleType, (caller, a, r) => r[0] = WasmValue.FromI64(RunNested(run, caller, a, memoryPages, depth)));
            var instance = linker.Instantiate(store, compiled);
            int exitCode;
            RunOutcome outcome;
            if (entry == JobSpec.WasiStart)
            {
                exitCode = wasi.RunCommand(instance);
                outcome = RunOutcome.Exited;
            }
            else
            {
                wasi.InitializeReactor(instance);
                var function = instance.GetFunction(entry);
                if (function is null)
                {
                    return Invalid(store, $"the module exports no function '{entry}'");
                }

                if (!TryParseArguments(function.Type, args, out var values, out var error))
                {
                    return Invalid(store, error);
                }

                var results = function.Invoke(values);
                var text = new StringBuilder();
                foreach (var value in results)
                {
                    text.Append(Format(value)).Append('\n');
                }

                output.Write(Encoding.UTF8.GetBytes(text.ToString()));
                exitCode = 0;
                outcome = RunOutcome.Returned;
            }

            return new RunResult(output.ToArray(), exitCode, store.FuelConsumed, outcome, null);
        }
        catch (WasmExitException exit)
        {
            return new RunResult(output.ToArray(), exit.ExitCode, store.FuelConsumed, RunOutcome.Exited, null);
        }
        catch (WasmTrapException trap) when (trap.InnerException is OutputLimitExceededException limit)
        {
            return OutputLimit(output, store, limit);
        }
        catch (OutputLimitExceededException limit)
        {
            // An export's results printed past the cap (not through WASI).
            return OutputLimit(output, store, limit);
        }
        catch (WasmTrapException trap)
        {
            var (outcome, code) = trap.Kind switch
            {
                TrapKind.OutOfFuel => (RunOutcome.OutOfFuel, ExitCodes.Trapped),
                TrapKind.MemoryLimitExceeded => (RunOutcome.MemoryExceeded, ExitCodes.Trapped),
                TrapKind.Timeout => (RunOutcome.WallTimeExceeded, ExitCodes.WallTime),
                _ => (RunOutcome.Trapped, ExitCodes.Trapped),
            };
            return new RunResult(output.ToArray(), code, store.FuelConsumed, outcome, trap.Message);
        }
        catch (WasmLinkException ex)
        {
            return Invalid(store, "the module's imports cannot be satisfied: " + ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            // WasiContext.RunCommand: no _start, or a _start of the wrong type.
            return Invalid(store, ex.Message);
        }
    }

    private static RunResult OutputLimit(CappedOutputStream output, Store store, OutputLimitExceededException limit) =>
        new(output.ToArray(), ExitCodes.OutputLimit, store.FuelConsumed, RunOutcome.OutputLimitExceeded, limit.Message);

    private static RunResult Invalid(Store store, string detail) => new([], ExitCodes.Invalid, store.FuelConsumed, RunOutcome.Invalid, detail);

    /// <summary>The body of <c>xmbl.run_module</c>.</summary>
    private long RunNested(RunContext run, Caller caller, ReadOnlySpan<WasmValue> args, int memoryPages, int depth)
    {
        var memory = caller.GetMemory() ?? throw new WasmTrapException(TrapKind.HostError, "xmbl.run_module needs the caller to export its memory as \"memory\".");
        var hash = Encoding.ASCII.GetString(Slice(memory, args[0].I32, args[1].I32));
        var input = Slice(memory, args[2].I32, args[3].I32).ToArray();
        var outputPtr = args[4].I32;
        var outputCap = args[5].I32;
        if (depth + 1 > _options.MaxNestingDepth)
        {
            return NestedTooDeep;
        }

        if (!ModuleStore.IsValidHash(hash))
        {
            return NestedUnknownModule;
        }

        CompiledModule child;
        try
        {
            // Host functions are synchronous; the bytes are usually a local file read.
            child = modules.GetCompiledAsync(hash, run.Cancellation).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is ModuleNotFoundException or WasmException)
        {
            return NestedUnknownModule;
        }

        // The job's limits bound it with all its nested runs: a child gets the memory its ancestors leave (they cannot
        // grow while it runs) and the rest of the job's wall-clock time, so node admission and the watchdog hold.
        var childPages = Math.Max(0, memoryPages - memory.Pages);
        var childWallTime = run.RemainingWallTime();
        if (childWallTime <= TimeSpan.Zero)
        {
            throw new WasmTrapException(TrapKind.Timeout, "the job ran past the wall-clock limit");
        }

        var parent = caller.Store;
        var budget = parent.FuelRemaining ?? _options.MaxFuel;
        var result = Run(run, child, JobSpec.WasiStart, [], [], input, budget, childPages, childWallTime, JobIds.Seed(run.JobId, run.NextNestedSalt()), depth + 1);

        // The child's fuel is the parent's: charging it may exhaust the parent, which then traps out of fuel.
        parent.ConsumeFuel(Math.Min(result.Fuel, budget));
        if (result.Outcome == RunOutcome.OutOfFuel)
        {
            throw new WasmTrapException(TrapKind.OutOfFuel, "a nested job used up the fuel budget");
        }

        if (result.Outcome == RunOutcome.WallTimeExceeded)
        {
            throw new WasmTrapException(TrapKind.Timeout, "a nested job ran past the wall-clock limit");
        }

        if (result.Outcome != RunOutcome.Exited)
        {
            return NestedFailed;
        }

        var copy = Math.Min(Math.Max(0, outputCap), result.Output.Length);
        result.Output.AsSpan(0, copy).CopyTo(Slice(memory, outputPtr, copy));
        return result.ExitCode == 0 ? result.Output.Length : NestedNonZeroExit;
    }

    private static Span<byte> Slice(Memory memory, int pointer, int length)
    {
        if (length < 0 || (uint)pointer + (ulong)(uint)length > (ulong)memory.Length)
        {
            throw new WasmTrapException(TrapKind.MemoryOutOfBounds, "xmbl.run_module: out of bounds memory access");
        }

        return memory.GetSpan((uint)pointer, length);
    }

    private static bool TryParseArguments(FuncType type, IReadOnlyList<string> args, out WasmValue[] values, out string error)
    {
        values = new WasmValue[type.Parameters.Count];
        error = "";
        if (args.Count != type.Parameters.Count)
        {
            error = $"the function takes {type.Parameters.Count} argument(s), {args.Count} given";
            return false;
        }

        for (var i = 0; i < values.Length; i++)
        {
            var text = args[i];
            var ok = type.Parameters[i] switch
            {
                WasmValueType.I32 => TryI32(text, out values[i]),
                WasmValueType.I64 => TryI64(text, out values[i]),
                WasmValueType.F32 => TryF32(text, out values[i]),
                WasmValueType.F64 => TryF64(text, out values[i]),
                _ => false,
            };
            if (!ok)
            {
                error = $"argument {i + 1} '{text}' is not a valid {type.Parameters[i].ToString().ToLowerInvariant()}";
                return false;
            }
        }

        return true;
    }

    private static bool TryI32(string text, out WasmValue value)
    {
        var ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            || (uint.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u) && (v = unchecked((int)u)) == v);
        value = WasmValue.FromI32(v);
        return ok;
    }

    private static bool TryI64(string text, out WasmValue value)
    {
        var ok = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            || (ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u) && (v = unchecked((long)u)) == v);
        value = WasmValue.FromI64(v);
        return ok;
    }

    private static bool TryF32(string text, out WasmValue value)
    {
        var ok = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v);
        value = WasmValue.FromF32(v);
        return ok;
    }

    private static bool TryF64(string text, out WasmValue value)
    {
        var ok = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v);
        value = WasmValue.FromF64(v);
        return ok;
    }

    private static string Format(WasmValue value) => value.Type switch
    {
        WasmValueType.I32 => value.I32.ToString(CultureInfo.InvariantCulture),
        WasmValueType.I64 => value.I64.ToString(CultureInfo.InvariantCulture),
        WasmValueType.F32 => value.F32.ToString("R", CultureInfo.InvariantCulture),
        WasmValueType.F64 => value.F64.ToString("R", CultureInfo.InvariantCulture),
        _ => value.Ref is null ? "null" : "ref",
    };

    /// <summary>What nested runs of one job share: its id (for seeds), the cancellation and the nested-call counter.</summary>
    private sealed class RunContext(string jobId, CancellationToken cancellation, InMemoryWasiFileSystem? inputs, TimeSpan wallTime)
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private int _nested;

        public string JobId { get; } = jobId;

        public CancellationToken Cancellation { get; } = cancellation;

        /// <summary>The job's input objects, mounted at <see cref="JobObjects.InputMount"/> in the job and its nested runs.</summary>
        public InMemoryWasiFileSystem? Inputs { get; } = inputs;

        /// <summary>What is left of the job's wall-clock limit.</summary>
        public TimeSpan RemainingWallTime() => wallTime - Stopwatch.GetElapsedTime(_started);

        /// <summary>Nested calls are numbered in call order, which is deterministic, so seeds are too.</summary>
        public int NextNestedSalt() => ++_nested;
    }
}
