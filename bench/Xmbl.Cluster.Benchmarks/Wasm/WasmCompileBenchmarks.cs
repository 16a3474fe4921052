using BenchmarkDotNet.Attributes;
using Xmbl.Cluster.Wasm;

namespace Xmbl.Cluster.Benchmarks.Wasm;

/// <summary>Compile (decode + validate + translate to IL) and instantiate times.</summary>
[MemoryDiagnoser]
public class WasmCompileBenchmarks
{
    private byte[] _large = [];
    private byte[] _small = [];
    private WasmEngine _engine = null!;
    private CompiledModule _compiledSmall = null!;
    private CompiledModule _compiledLarge = null!;
    private Linker _linker = null!;

    [Params(true, false)]
    public bool FuelMetering { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _large = WasmBenchModules.LargeModule();
        _small = WasmBenchModules.MemorySum();
        _engine = new WasmEngine(new WasmEngineOptions { FuelMetering = FuelMetering, CompiledModuleCacheSize = 0 });
        _compiledSmall = _engine.Compile(_small);
        _compiledLarge = _engine.Compile(_large);
        _linker = new Linker(_engine);
    }

    /// <summary>Decode, validate and translate about 1 MiB of code (the cache is off).</summary>
    [Benchmark]
    public CompiledModule Compile1MiB() => _engine.Compile(_large);

    /// <summary>Instantiate a compiled module with a 1 MiB memory into a fresh store.</summary>
    [Benchmark]
    public Instance InstantiateSmall() => _linker.Instantiate(new Store(_engine), _compiledSmall);

    /// <summary>Instantiate the compiled 3,276-function module into a fresh store.</summary>
    [Benchmark]
    public Instance InstantiateLarge() => _linker.Instantiate(new Store(_engine), _compiledLarge);
}
