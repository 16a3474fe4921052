using BenchmarkDotNet.Attributes;
using Xmbl.Cluster.Wasm;

namespace Xmbl.Cluster.Benchmarks.Wasm;

/// <summary>
/// Small compute kernels under the engine with fuel metering on and off (the difference is the metering cost),
/// next to the same kernel in C# (the floor: what the JIT makes of the same algorithm without wasm semantics).
/// memory-sum reads 1 MiB with one bounds-checked i32.load per element, so its gap to the C# loop is the cost
/// of the bounds checks.
/// </summary>
[MemoryDiagnoser]
public class WasmKernelBenchmarks
{
    private const int FibN = 27;
    private const int SumBytes = 1 << 20;

    private Function _fib = null!;
    private Function _sum = null!;
    private readonly WasmValue[] _fibArgs = [WasmValue.FromI32(FibN)];
    private readonly WasmValue[] _sumArgs = [WasmValue.FromI32(SumBytes)];
    private readonly WasmValue[] _result = new WasmValue[1];
    private int[] _data = [];

    [Params(true, false)]
    public bool FuelMetering { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var engine = new WasmEngine(new WasmEngineOptions { FuelMetering = FuelMetering });
        var store = new Store(engine);
        var linker = new Linker(engine);
        _fib = linker.Instantiate(store, engine.Compile(WasmBenchModules.Fib())).GetFunction("fib")!;
        var sumInstance = linker.Instantiate(store, engine.Compile(WasmBenchModules.MemorySum()));
        _sum = sumInstance.GetFunction("sum")!;
        var memory = sumInstance.GetMemory("memory")!.Span;
        _data = new int[SumBytes / 4];
        for (var i = 0; i < _data.Length; i++)
        {
            _data[i] = i * 31;
            BitConverter.TryWriteBytes(memory.Slice(i * 4, 4), _data[i]);
        }
    }

    [Benchmark]
    public int Fib()
    {
        _fib.Invoke(_fibArgs, _result);
        return _result[0].I32;
    }

    [Benchmark]
    public int MemorySum()
    {
        _sum.Invoke(_sumArgs, _result);
        return _result[0].I32;
    }

    [Benchmark]
    public int FibCSharp() => FibNative(FibN);

    [Benchmark]
    public unsafe int MemorySumCSharp()
    {
        var acc = 0;
        fixed (int* p = _data)
        {
            for (var i = 0; i < _data.Length; i++)
            {
                acc += p[i];
            }
        }

        return acc;
    }

    private static int FibNative(int n) => n < 2 ? n : FibNative(n - 1) + FibNative(n - 2);
}
