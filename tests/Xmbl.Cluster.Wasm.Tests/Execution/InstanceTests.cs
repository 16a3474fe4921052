using static Xmbl.Cluster.Wasm.Tests.Execution.Harness;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

[Trait("Suite", "Functional")]
public sealed class InstanceTests
{
    [Fact]
    public void HostFunction_InvokedDirectlyFromTheHost_RunsTheDelegate()
    {
        var module = new TestModule();
        var twice = module.ImportFunction("env", "twice", I32, I32);
        module.Export("twice", twice);
        var instance = Instantiate(module.Build(), define: l => l.Define("env", "twice", new FuncType(I32, I32), (_, args, results) => results[0] = I(args[0].I32 * 2)));
        var function = instance.GetFunction("twice")!;
        Assert.True(function.IsHostFunction);
        Assert.Equal(42, function.Invoke(I(21))[0].I32);
    }

    [Fact]
    public void Invoke_WrongArgumentType_ThrowsArgumentException()
    {
        var instance = Instantiate(Single(I32, I32, new Code().LocalGet(0)));
        Assert.Throws<ArgumentException>(() => instance.GetFunction("f")!.Invoke(L(1)));
        Assert.Throws<ArgumentException>(() => instance.GetFunction("f")!.Invoke());
    }

    [Fact]
    public void MemoryFill_OutOfBounds_TrapsWithoutWriting()
    {
        var module = new TestModule().Memory(1);
        module.ExportKind("memory", 2, 0);
        module.Export("fill", module.Function([WasmValueType.I32, WasmValueType.I32], [], new Code().LocalGet(0).I32Const(0xAB).LocalGet(1).MemoryFill()));
        var instance = Instantiate(module.Build());
        instance.GetFunction("fill")!.Invoke(I(10), I(4));
        Assert.Equal([0xAB, 0xAB, 0xAB, 0xAB, 0], instance.GetMemory("memory")!.Span.Slice(10, 5).ToArray());
        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("fill")!.Invoke(I(65530), I(10)));
        Assert.Equal(TrapKind.MemoryOutOfBounds, trap.Kind);
        Assert.Equal(0, instance.GetMemory("memory")!.Span[65535]);
    }

    [Fact]
    public void Memory_HostGrow_IsSeenByCompiledCode()
    {
        var module = new TestModule().Memory(1);
        module.ExportKind("memory", 2, 0);
        module.Export("size", module.Function([], I32, new Code().MemorySize()));
        module.Export("load", module.Function(I32, I32, new Code().LocalGet(0).I32Load8U()));
        var instance = Instantiate(module.Build());
        var memory = instance.GetMemory("memory")!;
        Assert.Equal(TrapKind.MemoryOutOfBounds, Assert.Throws<WasmTrapException>(() => Call(instance, "load", I(70000))).Kind);
        Assert.Equal(1, memory.Grow(1));
        memory.Span[70000] = 7;
        Assert.Equal(2, Call(instance, "size").I32);
        Assert.Equal(7, Call(instance, "load", I(70000)).I32);
    }

    [Fact]
    public void Table_HostSetsFunction_CallIndirectUsesIt()
    {
        var module = new TestModule().Table(2);
        module.ExportKind("table", 1, 0);
        var type = module.Type([], I32);
        module.Export("seven", module.Function([], I32, new Code().I32Const(7)));
        module.Export("call", module.Function(I32, I32, new Code().LocalGet(0).CallIndirect(type)));
        var instance = Instantiate(module.Build());
        var table = instance.GetTable("table")!;
        table.Set(1, instance.GetFunction("seven"));
        Assert.Equal(7, Call(instance, "call", I(1)).I32);
        Assert.Same(instance.GetFunction("seven"), table.Get(1));
        Assert.Throws<ArgumentException>(() => table.Set(0, "not a function"));
    }

    [Fact]
    public void Stores_OnSeveralThreadsAtOnce_RunIndependently()
    {
        var engine = new WasmEngine();
        var body = new Code()
            .Block().Loop()
            .LocalGet(0).Op(Ops.I32Eqz).BrIf(1)
            .LocalGet(1).LocalGet(0).Op(Ops.I32Add).LocalSet(1)
            .LocalGet(0).I32Const(1).Op(Ops.I32Sub).LocalSet(0)
            .Br(0).End().End()
            .LocalGet(1);
        var compiled = engine.Compile(Single(I32, I32, body, WasmValueType.I32));
        var results = new int[8];
        Parallel.For(0, results.Length, i =>
        {
            var instance = new Linker(engine).Instantiate(new Store(engine), compiled);
            results[i] = instance.GetFunction("f")!.Invoke(I(1000 + i))[0].I32;
        });
        for (var i = 0; i < results.Length; i++)
        {
            var n = 1000 + i;
            Assert.Equal(n * (n + 1) / 2, results[i]);
        }
    }

    [Fact]
    public void WasmValue_FloatBits_RoundTripExactly()
    {
        var nan = WasmValue.FromF32Bits(0x7FA0_0001);
        Assert.Equal(0x7FA0_0001u, nan.F32Bits);
        Assert.True(float.IsNaN(nan.F32));
        Assert.Equal(WasmValue.FromI64(-1), WasmValue.FromI64(-1));
        Assert.NotEqual(WasmValue.FromI32(-1), WasmValue.FromI64(-1));
        Assert.Throws<ArgumentException>(() => WasmValue.FromRef(WasmValueType.FuncRef, "x"));
        Assert.True(WasmValue.NullRef(WasmValueType.ExternRef).IsNullRef);
    }

    [Fact]
    public void FuncType_EqualSignatures_AreEqualAndHashAlike()
    {
        var a = new FuncType([WasmValueType.I32], [WasmValueType.F64]);
        var b = new FuncType([WasmValueType.I32], [WasmValueType.F64]);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new FuncType([WasmValueType.F64], [WasmValueType.I32]));
        Assert.Equal("[i32] -> [f64]", a.ToString());
    }
}
