using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Services;
using Xmbl.Cluster.Services;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Wasm;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Runs jobs on the silo's engine (<see cref="IWasmEngine"/>, <c>Xmbl:Compute:Engine</c>): WASI preview1 with deterministic clocks and randomness seeded from the job id,
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
internal sealed class WasmJobRunner(ModuleStore modules, JobObjects objects, IOptions<ComputeOptions> options, IServiceProvider services) : IJobRunner
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
        if (spec.Task is { } task)
        {
            return await RunTaskAsync(work, task, ct);
        }

        IWasmModule compiled;
        try
        {
            compiled = await modules.GetCompiledAsync(spec.ModuleHash, ct);
        }
        catch (WasmModuleRejectedException ex)
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

    /// <summary>
    /// A service task: the package from this silo's cache (retrieved from the library and verified the first time),
    /// the inputs checked against its manifest again, the capability gate, and the entry module run by
    /// <see cref="ServiceRunner"/>. The output is the <see cref="TaskOutputBundle"/>, so the proof covers the files and
    /// storage writes. A package or input every node would refuse ends the run as invalid, with the reason.
    /// </summary>
    private async Task<RunResult> RunTaskAsync(JobWork work, TaskRun task, CancellationToken ct)
    {
        var cache = services.GetService<ServicePackageCache>()
            ?? throw new InvalidOperationException("This silo has no service library (AddServiceLibrary), so it cannot run tasks.");
        CachedService service;
        try
        {
            service = await cache.GetAsync(task.PackageId, task.Version, task.PackageSha256, ct);
        }
        catch (PackageRejectedException ex)
        {
            return Invalid(0, $"retrieve_service refused {task.PackageId}@{task.Version} ({ex.ReasonCode}): {ex.Message}");
        }

        var manifest = service.Package.Manifest;
        TaskInputs? inputs;
        IReadOnlyList<ManifestError> errors;
        using (var document = System.Text.Json.JsonDocument.Parse(task.InputsJson))
        {
            TaskInputs.TryCreate(manifest, document.RootElement, long.MaxValue, out inputs, out errors);
        }

        if (inputs is null)
        {
            return Invalid(0, "the inputs break the manifest: " + string.Join("; ", errors.Select(e => e.ToString())));
        }

        var spec = work.Spec;
        var runOptions = new ServiceRunOptions
        {
            Fuel = spec.Limits.Fuel,
            WallTime = spec.Limits.WallTime,
            MaxOutputBytes = _options.MaxOutputBytes,
            MaxLogBytes = (int)Math.Min(_options.MaxOutputBytes, 64 * 1024),
            Seed = JobIds.Seed(work.JobId),
        };
        var proxy = objects.CreateTaskProxy(task, spec.Submitter ?? "", _options.MaxOutputBytes);
        var run = new RunContext(work.JobId, ct, inputs: null, spec.Limits.WallTime);
        var providers = new ServiceCapabilityProviders
        {
            StorageRead = proxy is null ? null : proxy.Read,
            StorageWrite = proxy is null ? null : proxy.Write,
            // Nested jobs as for any job: seeded from the job id and the call order, so a validator's run of the task
            // makes the same nested runs and gets the same bytes, which the task's proof then covers.
            RunModule = RunModuleImport(run, spec.Limits.MemoryPages, depth: 0),
        };
        var tier = task.Trusted ? TrustTier.Trusted : TrustTier.Untrusted;
        var result = await GuestThreads.RunAsync(() => ServiceRunner.Run(service.Entry, manifest, inputs, runOptions, tier, providers, ct));
        if (result.Refusal is { } refusal)
        {
            return Invalid(0, "refused at task_start: " + refusal);
        }

        var bundle = new TaskOutputBundle(result.Stdout, result.Files ?? new Dictionary<string, byte[]>(), proxy?.Writes ?? new Dictionary<string, byte[]>()).Encode();
        var detail = result.Problems.Count == 0 ? null : string.Join("; ", result.Problems);
        return result.End switch
        {
            WasmRunEnd.Exited => new RunResult(bundle, result.ExitCode, result.FuelConsumed, RunOutcome.Exited, detail),
            WasmRunEnd.Trapped => result.Trap switch
            {
                TrapKind.OutOfFuel => new RunResult(bundle, ExitCodes.Trapped, result.FuelConsumed, RunOutcome.OutOfFuel, detail),
                TrapKind.MemoryLimitExceeded => new RunResult(bundle, ExitCodes.Trapped, result.FuelConsumed, RunOutcome.MemoryExceeded, detail),
                TrapKind.Timeout => new RunResult(bundle, ExitCodes.WallTime, result.FuelConsumed, RunOutcome.WallTimeExceeded, detail),
                _ => new RunResult(bundle, ExitCodes.Trapped, result.FuelConsumed, RunOutcome.Trapped, detail),
            },
            _ => Invalid(result.FuelConsumed, detail ?? "the entry module is not a WASI command"),
        };
    }

    private RunResult Run(
        RunContext run,
        IWasmModule compiled,
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

        WasmValue[] values = [];
        if (entry != JobSpec.WasiStart)
        {
            // Text arguments are parsed against the export's signature; the engine checks that it exists after _initialize.
            var type = compiled.Exports.FirstOrDefault(e => e.Kind == WasmExternKind.Function && string.Equals(e.Name, entry, StringComparison.Ordinal))?.FunctionType;
            if (type is not null && !TryParseArguments(type, args, out values, out var error))
            {
                return Invalid(0, error);
            }
        }

        var request = new WasmRunRequest
        {
            Export = entry == JobSpec.WasiStart ? null : entry,
            Arguments = values,
            Wasi = wasiConfig,
            Limits = new StoreLimitsBuilder().Fuel(Math.Max(0, fuel)).MemoryPages(memoryPages).WallClock(wallTime).Cancellation(run.Cancellation).Build(),
            HostFunctions = [RunModuleImport(run, memoryPages, depth)],
        };
        var result = compiled.Engine.Run(compiled, request);
        switch (result.End)
        {
            case WasmRunEnd.Exited:
                return new RunResult(output.ToArray(), result.ExitCode, result.FuelConsumed, RunOutcome.Exited, null);
            case WasmRunEnd.Returned:
                var text = new StringBuilder();
                foreach (var value in result.Results)
                {
                    text.Append(Format(value)).Append('\n');
                }

                try
                {
                    output.Write(Encoding.UTF8.GetBytes(text.ToString()));
                }
                catch (OutputLimitExceededException limit)
                {
                    // An export's results printed past the cap (not through WASI).
                    return OutputLimit(output, result.FuelConsumed, limit);
                }

                return new RunResult(output.ToArray(), 0, result.FuelConsumed, RunOutcome.Returned, null);
            case WasmRunEnd.Trapped when result.HostException is OutputLimitExceededException limit:
                return OutputLimit(output, result.FuelConsumed, limit);
            case WasmRunEnd.Trapped:
                var (outcome, code) = result.Trap switch
                {
                    TrapKind.OutOfFuel => (RunOutcome.OutOfFuel, ExitCodes.Trapped),
                    TrapKind.MemoryLimitExceeded => (RunOutcome.MemoryExceeded, ExitCodes.Trapped),
                    TrapKind.Timeout => (RunOutcome.WallTimeExceeded, ExitCodes.WallTime),
                    _ => (RunOutcome.Trapped, ExitCodes.Trapped),
                };
                return new RunResult(output.ToArray(), code, result.FuelConsumed, outcome, result.Message);
            case WasmRunEnd.LinkFailed:
                return Invalid(result.FuelConsumed, "the module's imports cannot be satisfied: " + result.Message);
            default:
                return Invalid(result.FuelConsumed, result.Message ?? "the module has no such entry point");
        }
    }

    private static RunResult OutputLimit(CappedOutputStream output, long fuel, OutputLimitExceededException limit) =>
        new(output.ToArray(), ExitCodes.OutputLimit, fuel, RunOutcome.OutputLimitExceeded, limit.Message);

    private static RunResult Invalid(long fuel, string detail) => new([], ExitCodes.Invalid, fuel, RunOutcome.Invalid, detail);

    /// <summary><c>xmbl.run_module</c> for a run at <paramref name="depth"/> whose job may use <paramref name="memoryPages"/>.</summary>
    private WasmHostFunction RunModuleImport(RunContext run, int memoryPages, int depth) =>
        new(HostModule, RunModuleFunction, RunModuleType, (call, a, r) => r[0] = WasmValue.FromI64(RunNested(run, call, a, memoryPages, depth)));

    /// <summary>The body of <c>xmbl.run_module</c>.</summary>
    private long RunNested(RunContext run, IWasmHostCall call, ReadOnlySpan<WasmValue> args, int memoryPages, int depth)
    {
        var pages = call.MemoryPages ?? throw new WasmTrapException(TrapKind.HostError, "xmbl.run_module needs the caller to export its memory as \"memory\".");
        var hash = Encoding.ASCII.GetString(Slice(call, args[0].I32, args[1].I32));
        var input = Slice(call, args[2].I32, args[3].I32).ToArray();
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

        IWasmModule child;
        try
        {
            // Host functions are synchronous; the bytes are usually a local file read.
            child = modules.GetCompiledAsync(hash, run.Cancellation).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is ModuleNotFoundException or WasmModuleRejectedException)
        {
            return NestedUnknownModule;
        }

        // The job's limits bound it with all its nested runs: a child gets the memory its ancestors leave (they cannot
        // grow while it runs) and the rest of the job's wall-clock time, so node admission and the watchdog hold.
        var childPages = Math.Max(0, memoryPages - pages);
        var childWallTime = run.RemainingWallTime();
        if (childWallTime <= TimeSpan.Zero)
        {
            throw new WasmTrapException(TrapKind.Timeout, "the job ran past the wall-clock limit");
        }

        var budget = call.FuelRemaining ?? _options.MaxFuel;
        var result = Run(run, child, JobSpec.WasiStart, [], [], input, budget, childPages, childWallTime, JobIds.Seed(run.JobId, run.NextNestedSalt()), depth + 1);

        // The child's fuel is the parent's: charging it may exhaust the parent, which then traps out of fuel.
        call.ConsumeFuel(Math.Min(result.Fuel, budget));
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
        result.Output.AsSpan(0, copy).CopyTo(Slice(call, outputPtr, copy));
        return result.ExitCode == 0 ? result.Output.Length : NestedNonZeroExit;
    }

    private static Span<byte> Slice(IWasmHostCall call, int pointer, int length)
    {
        if (length < 0 || (uint)pointer + (ulong)(uint)length > (ulong)(call.MemoryPages ?? 0) * Memory.PageSize)
        {
            throw new WasmTrapException(TrapKind.MemoryOutOfBounds, "xmbl.run_module: out of bounds memory access");
        }

        return call.Memory((uint)pointer, length);
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
