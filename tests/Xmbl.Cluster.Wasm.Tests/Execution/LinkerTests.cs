using static Xmbl.Cluster.Wasm.Tests.Execution.Harness;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

[Trait("Suite", "Functional")]
public sealed class LinkerTests
{
    private static readonly FuncType BinaryI32 = new(I32I32, I32);

    [Fact]
    public void HostFunction_RoundTrip_ReceivesArgumentsAndReturnsResult()
    {
        var module = new TestModule();
        var add = module.ImportFunction("env", "add", I32I32, I32);
        module.Export("f", module.Function(I32, I32, new Code().LocalGet(0).I32Const(1000).Call(add)));
        var seen = new List<int>();
        var instance = Instantiate(module.Build(), define: l => l.Define("env", "add", BinaryI32, (caller, args, results) =>
        {
            seen.Add(args[0].I32);
            results[0] = I(args[0].I32 + args[1].I32);
        }));
        Assert.Equal(1042, Call(instance, "f", I(42)).I32);
        Assert.Equal([42], seen);
    }

    [Fact]
    public void HostFunction_Caller_ReadsAndWritesGuestMemoryAndChargesFuel()
    {
        var module = new TestModule().Memory(1);
        var poke = module.ImportFunction("env", "poke", I32, []);
        module.ExportKind("memory", 2, 0);
        module.Export("f", module.Function([], I32, new Code().I32Const(16).Call(poke).I32Const(16).I32Load()));
        var instance = Instantiate(module.Build(), new StoreLimitsBuilder().Fuel(1000).Build(), define: l => l.Define("env", "poke", new FuncType(I32, []), (caller, args, _) =>
        {
            caller.Store.ConsumeFuel(500);
            BitConverter.TryWriteBytes(caller.GetMemory()!.Span.Slice(args[0].I32, 4), 0x01020304);
        }));
        Assert.Equal(0x01020304, Call(instance, "f").I32);
        Assert.True(instance.Store.FuelConsumed >= 500);
    }

    [Fact]
    public void HostFunction_ExitException_PropagatesUnwrapped()
    {
        var module = new TestModule();
        var exit = module.ImportFunction("wasi_snapshot_preview1", "proc_exit", I32, []);
        module.Export("_start", module.Function([], [], new Code().I32Const(3).Call(exit).Op(Ops.Unreachable)));
        var thrown = new WasmExitException(3);
        var instance = Instantiate(module.Build(), define: l => l.Define("wasi_snapshot_preview1", "proc_exit", new FuncType(I32, []), (_, args, _) => throw thrown));
        var caught = Assert.Throws<WasmExitException>(() => instance.GetFunction("_start")!.Invoke());
        Assert.Same(thrown, caught);
        Assert.Equal(3, caught.ExitCode);
    }

    [Fact]
    public void HostFunction_ThrowsOtherException_BecomesHostErrorTrap()
    {
        var module = new TestModule();
        var fail = module.ImportFunction("env", "fail", [], []);
        module.Export("f", module.Function([], [], new Code().Call(fail)));
        var instance = Instantiate(module.Build(), define: l => l.Define("env", "fail", FuncType.Empty, (_, _, _) => throw new InvalidOperationException("boom")));
        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke());
        Assert.Equal(TrapKind.HostError, trap.Kind);
        Assert.IsType<InvalidOperationException>(trap.InnerException);
    }

    [Fact]
    public void HostFunction_ReentersWasm_NestedCallWorks()
    {
        var module = new TestModule();
        var callback = module.ImportFunction("env", "callback", I32, I32);
        var square = module.Function(I32, I32, new Code().LocalGet(0).LocalGet(0).Op(Ops.I32Mul));
        module.Export("square", square);
        module.Export("f", module.Function(I32, I32, new Code().LocalGet(0).Call(callback).I32Const(1).Op(Ops.I32Add)));
        var instance = Instantiate(module.Build(), define: l => l.Define("env", "callback", new FuncType(I32, I32), (caller, args, results) =>
            results[0] = caller.GetFunction("square")!.Invoke(args[0])[0]));
        Assert.Equal(50, Call(instance, "f", I(7)).I32);
    }

    [Fact]
    public void Instantiate_MissingImport_ThrowsUnknownImport()
    {
        var module = new TestModule();
        module.ImportFunction("env", "missing", [], []);
        var ex = Assert.Throws<WasmLinkException>(() => Instantiate(module.Build()));
        Assert.Contains("unknown import", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Instantiate_ImportWithWrongSignature_ThrowsIncompatibleImportType()
    {
        var module = new TestModule();
        module.ImportFunction("env", "f", I32, []);
        var ex = Assert.Throws<WasmLinkException>(() => Instantiate(module.Build(), define: l => l.Define("env", "f", FuncType.Empty, (_, _, _) => { })));
        Assert.Contains("incompatible import type", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Instantiate_MemoryImportSmallerThanRequired_ThrowsIncompatibleImportType()
    {
        var module = new TestModule();
        module.ImportMemory("env", "memory", 2);
        var ex = Assert.Throws<WasmLinkException>(() => Instantiate(module.Build(), define: l => l.Define("env", "memory", new Memory(1, null))));
        Assert.Contains("incompatible import type", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Instantiate_ImportedGlobal_IsSharedWithTheHost()
    {
        var module = new TestModule();
        module.ImportGlobal("env", "g", WasmValueType.I32, mutable: true);
        module.Export("bump", module.Function([], [], new Code().GlobalGet(0).I32Const(1).Op(Ops.I32Add).GlobalSet(0)));
        var global = new Global(WasmValueType.I32, true, I(10));
        var instance = Instantiate(module.Build(), define: l => l.Define("env", "g", global));
        instance.GetFunction("bump")!.Invoke();
        Assert.Equal(11, global.Value.I32);
    }

    [Fact]
    public void Instantiate_DataSegmentOutOfBounds_TrapsAfterApplyingEarlierSegments()
    {
        var memory = new Memory(1, null);
        var module = new TestModule();
        module.ImportMemory("env", "memory", 1);
        module.Data(0, [1, 2, 3]).Data(65535, [9, 9]);
        var trap = Assert.Throws<WasmTrapException>(() => Instantiate(module.Build(), define: l => l.Define("env", "memory", memory)));
        Assert.Equal(TrapKind.MemoryOutOfBounds, trap.Kind);
        Assert.Equal([1, 2, 3], memory.Span[..3].ToArray());
        Assert.Equal(0, memory.Span[65535]);
    }

    [Fact]
    public void Instantiate_StartFunction_RunsBeforeReturning()
    {
        var module = new TestModule();
        var g = module.Global(WasmValueType.I32, true, new Code().I32Const(0));
        var start = module.Function([], [], new Code().I32Const(7).GlobalSet(g));
        module.Start(start).ExportKind("g", 3, (uint)g);
        Assert.Equal(7, Instantiate(module.Build()).GetGlobal("g")!.Value.I32);
    }

    [Fact]
    public void Instantiate_SameModuleTwice_InstancesHaveSeparateMemory()
    {
        var module = new TestModule().Memory(1);
        module.Export("set", module.Function(I32, [], new Code().I32Const(0).LocalGet(0).I32Store()));
        module.Export("get", module.Function([], I32, new Code().I32Const(0).I32Load()));
        var engine = new WasmEngine();
        var compiled = engine.Compile(module.Build());
        var linker = new Linker(engine);
        var a = linker.Instantiate(new Store(engine), compiled);
        var b = linker.Instantiate(new Store(engine), compiled);
        a.GetFunction("set")!.Invoke(I(5));
        b.GetFunction("set")!.Invoke(I(6));
        Assert.Equal(5, Call(a, "get").I32);
        Assert.Equal(6, Call(b, "get").I32);
    }

    [Fact]
    public void MemoryAccess_LastValidByteAndOnePast_LoadsThenTraps()
    {
        var module = new TestModule().Memory(1);
        module.Export("f", module.Function(I32, I32, new Code().LocalGet(0).I32Load8U()));
        module.Export("g", module.Function(I32, I32, new Code().LocalGet(0).I32Load(offset: 0xFFFF_FFF0)));
        var instance = Instantiate(module.Build());
        Assert.Equal(0, Call(instance, "f", I(65535)).I32);
        Assert.Equal(TrapKind.MemoryOutOfBounds, Assert.Throws<WasmTrapException>(() => Call(instance, "f", I(65536))).Kind);
        Assert.Equal(TrapKind.MemoryOutOfBounds, Assert.Throws<WasmTrapException>(() => Call(instance, "f", I(-1))).Kind);
        // A huge static offset plus address must not wrap around 32 bits.
        Assert.Equal(TrapKind.MemoryOutOfBounds, Assert.Throws<WasmTrapException>(() => Call(instance, "g", I(0x20))).Kind);
    }
}
