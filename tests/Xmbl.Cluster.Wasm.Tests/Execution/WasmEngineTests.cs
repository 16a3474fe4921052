using static Xmbl.Cluster.Wasm.Tests.Execution.Harness;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

[Trait("Suite", "BVT")]
public sealed class WasmEngineTests
{
    private static byte[] Constant(int value) => Single([], I32, new Code().I32Const(value));

    [Fact]
    public void Compile_SameBytesTwice_ReturnsTheCachedModule()
    {
        var engine = new WasmEngine();
        var first = engine.Compile(Constant(1));
        var second = engine.Compile(Constant(1));
        Assert.Same(first, second);
        Assert.Equal(64, first.Sha256.Length);
    }

    [Fact]
    public void Compile_MoreModulesThanTheCacheHolds_EvictsTheLeastRecentlyUsed()
    {
        var engine = new WasmEngine(new WasmEngineOptions { CompiledModuleCacheSize = 2 });
        var one = engine.Compile(Constant(1));
        engine.Compile(Constant(2));
        engine.Compile(Constant(1));
        engine.Compile(Constant(3));
        Assert.Equal(2, engine.CachedModuleCount);
        Assert.Same(one, engine.Compile(Constant(1)));
    }

    [Fact]
    public void Compile_Garbage_ThrowsMalformed() =>
        Assert.Throws<WasmMalformedException>(() => new WasmEngine().Compile(new byte[] { 1, 2, 3, 4 }));

    [Fact]
    public void Compile_TypeError_ThrowsInvalid() =>
        Assert.Throws<WasmInvalidException>(() => new WasmEngine().Compile(Single([], I32, new Code().I64Const(1))));

    [Fact]
    public void CompiledModule_DescribesImportsAndExports()
    {
        var module = new TestModule();
        module.ImportFunction("env", "log", I32, []);
        module.Memory(1, 4).ExportKind("memory", 2, 0);
        module.Export("run", module.Function([], [], new Code()));
        var compiled = new WasmEngine().Compile(module.Build());
        var import = Assert.Single(compiled.Imports);
        Assert.Equal(("env", "log", WasmExternKind.Function), (import.Module, import.Name, import.Kind));
        Assert.Equal(new FuncType(I32, []), import.FunctionType);
        Assert.Contains(compiled.Exports, e => e.Name == "memory" && e.Kind == WasmExternKind.Memory);
        Assert.Contains(compiled.Exports, e => e.Name == "run" && e.FunctionType == FuncType.Empty);
    }
}
