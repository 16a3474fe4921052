using BenchmarkDotNet.Attributes;
using Xmbl.Cluster.Wasm;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Engines.Managed;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasmtime;

namespace Xmbl.Cluster.Benchmarks.Wasm;

/// <summary>
/// The fixed cost of one run on each engine behind the seam, for a cached module: a store with limits, the WASI
/// context, instantiation (a 1 MiB memory) and an empty <c>_start</c>. Runs are made on a guest thread, as the job
/// runner makes them, so the thread hand-off is not measured.
/// </summary>
[MemoryDiagnoser]
public class EngineRunBenchmarks
{
    private const int RunsPerInvoke = 200;

    private IWasmEngine _engine = null!;
    private IWasmModule _module = null!;
    private StoreLimits _limits = null!;
    private WasmHostFunction[] _hostFunctions = [];

    [Params(WasmEngineNames.Wasmtime, WasmEngineNames.Managed)]
    public string Engine { get; set; } = WasmEngineNames.Wasmtime;

    /// <summary>Whether the run defines a host function, as every job run does (<c>xmbl.run_module</c>).</summary>
    [Params(false, true)]
    public bool HostFunction { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _engine = Engine == WasmEngineNames.Managed ? new ManagedWasmEngine() : new WasmtimeEngine();
        _module = _engine.Compile(WasmBenchModules.EmptyCommand());
        _hostFunctions = HostFunction
            ? [new WasmHostFunction("xmbl", "run_module", new FuncType([WasmValueType.I32, WasmValueType.I32], [WasmValueType.I64]), (_, _, results) => results[0] = WasmValue.FromI64(0))]
            : [];
        _limits = new StoreLimitsBuilder().Fuel(1_000_000).MemoryPages(256).WallClock(TimeSpan.FromSeconds(10)).Build();
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    /// <summary>One run of a cached module, start to end.</summary>
    [Benchmark(OperationsPerInvoke = RunsPerInvoke)]
    public Task<int> RunCachedModule() => GuestThreads.RunAsync(() =>
    {
        var exit = 0;
        for (var i = 0; i < RunsPerInvoke; i++)
        {
            exit |= _engine.Run(_module, new WasmRunRequest { Wasi = new WasiConfiguration().MakeDeterministic(1), Limits = _limits, HostFunctions = _hostFunctions }).ExitCode;
        }

        return exit;
    });
}
