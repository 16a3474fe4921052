namespace Xmbl.Cluster.Wasm.Tests.Execution;

/// <summary>Shared helpers: compile, instantiate and call with little ceremony.</summary>
internal static class Harness
{
    public static readonly WasmValueType[] I32 = [WasmValueType.I32];
    public static readonly WasmValueType[] I64 = [WasmValueType.I64];
    public static readonly WasmValueType[] F32 = [WasmValueType.F32];
    public static readonly WasmValueType[] F64 = [WasmValueType.F64];
    public static readonly WasmValueType[] I32I32 = [WasmValueType.I32, WasmValueType.I32];

    public static Instance Instantiate(byte[] wasm, StoreLimits? limits = null, bool fuel = true, Action<Linker>? define = null)
    {
        var engine = new WasmEngine(new WasmEngineOptions { FuelMetering = fuel });
        var store = new Store(engine, limits);
        var linker = new Linker(engine);
        define?.Invoke(linker);
        return linker.Instantiate(store, engine.Compile(wasm));
    }

    /// <summary>A module exporting "f" with the given signature and body.</summary>
    public static byte[] Single(WasmValueType[] parameters, WasmValueType[] results, Code body, params WasmValueType[] locals)
    {
        var module = new TestModule();
        module.Export("f", module.Function(parameters, results, body, locals));
        return module.Build();
    }

    public static WasmValue Call(Instance instance, string name, params WasmValue[] args) => instance.GetFunction(name)!.Invoke(args)[0];

    public static WasmValue I(int v) => WasmValue.FromI32(v);

    public static WasmValue L(long v) => WasmValue.FromI64(v);

    public static WasmValue D(double v) => WasmValue.FromF64(v);

    public static WasmValue S(float v) => WasmValue.FromF32(v);
}
