using Xunit.Abstractions;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

/// <summary>
/// The call-depth limit is a budget of native stack (4096 per unit): recursion through frames
/// of any size the validator accepts, of any local type, direct, mutual or through a table, ends in the ordinary
/// call-stack-exhausted trap at the same point and fuel everywhere, instead of overrunning the guest thread's stack
/// (issue 10: 20,000 i64 locals crashed the process).
/// </summary>
[Trait("Suite", "Functional")]
public sealed class StackBudgetTests(ITestOutputHelper output)
{
    private const int MaxLocals = 50_000; // WasmModuleLimits.MaxFunctionLocals

    private static readonly WasmValueType[] LocalTypes =
        [WasmValueType.I32, WasmValueType.I64, WasmValueType.F32, WasmValueType.F64, WasmValueType.FuncRef, WasmValueType.ExternRef];


    public static TheoryData<int, WasmValueType> SizesAndTypes()
    {
        var data = new TheoryData<int, WasmValueType>();
        foreach (var size in new[] { 100, 1_000, 10_000, 20_000, 30_000, MaxLocals })
        {
            data.Add(size, WasmValueType.I64);
        }

        foreach (var type in LocalTypes.Where(t => t != WasmValueType.I64))
        {
            data.Add(20_000, type);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SizesAndTypes))]
    public void SelfRecursion_LargeFrame_TrapsCallStackExhaustedWithTheSameFuelEveryRun(int locals, WasmValueType type)
    {
        var wasm = SelfRecursive(locals, type);

        var first = RunToTrap(wasm);
        var second = RunToTrap(wasm);

        output.WriteLine($"{locals} {type} locals: {first}");
        Assert.Equal(TrapKind.CallStackExhausted, first.Kind);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task SelfRecursion_TheIssueModule_TrapsOnEveryThreadWithTheSameFuelAndDepth()
    {
        // The 80-byte job of issue 10: 20,000 i64 locals, local.get 20000; local.get 0; i64.add; i64.const 1; i64.add; call 0.
        var wasm = SelfRecursive(20_000, WasmValueType.I64);

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => RunToTrap(wasm))));

        Assert.All(runs, r => Assert.Equal(runs[0], r));
        Assert.Equal(TrapKind.CallStackExhausted, runs[0].Kind);
        Assert.InRange(runs[0].Depth, 10, StoreLimits.DefaultMaxCallDepth);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(20_000)]
    [InlineData(MaxLocals)]
    public void MutualRecursion_LargeFrames_TrapsCallStackExhausted(int locals)
    {
        var module = new TestModule();
        var depth = module.Global(WasmValueType.I32, true, new Code().I32Const(0));
        var frame = Enumerable.Repeat(WasmValueType.I64, locals).ToArray();
        var f = module.Function([], [], Count(depth).Call(1), frame);
        module.Function([], [], Count(depth).Call(0), frame);
        module.Export("f", f);
        module.ExportKind("depth", 0x03, (uint)depth);

        var first = RunToTrap(module.Build());

        Assert.Equal(TrapKind.CallStackExhausted, first.Kind);
        Assert.Equal(first, RunToTrap(module.Build()));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(20_000)]
    [InlineData(MaxLocals)]
    public void CallIndirectRecursion_LargeFrame_TrapsCallStackExhausted(int locals)
    {
        var module = new TestModule();
        var depth = module.Global(WasmValueType.I32, true, new Code().I32Const(0));
        var type = module.Type([], []);
        var f = module.Function([], [], Count(depth).I32Const(0).CallIndirect(type), Enumerable.Repeat(WasmValueType.F64, locals).ToArray());
        module.Table(1).Elements(0, f);
        module.Export("f", f);
        module.ExportKind("depth", 0x03, (uint)depth);

        var first = RunToTrap(module.Build());

        Assert.Equal(TrapKind.CallStackExhausted, first.Kind);
        Assert.Equal(first, RunToTrap(module.Build()));
    }

    [Fact]
    public void SmallFrames_ChargeOneUnitEach_AsTheDepthLimitAlwaysDid()
    {
        var module = new TestModule();
        var depth = module.Global(WasmValueType.I32, true, new Code().I32Const(0));
        module.Export("f", module.Function([], [], Count(depth).Call(0), WasmValueType.I64, WasmValueType.I64));
        module.ExportKind("depth", 0x03, (uint)depth);

        var run = RunToTrap(module.Build(), new StoreLimitsBuilder().CallDepth(777).Build());

        Assert.Equal(777, run.Depth);
    }

    [Fact]
    public void LargeFrames_ChargeMoreThanOneUnit_SoTheyNestLessDeeply()
    {
        var run = RunToTrap(SelfRecursive(20_000, WasmValueType.I64));

        // 20,000 locals take at least 160 KB on x64 (measured 160,080 bytes): at least 40 units of 4 KiB.
        Assert.InRange(run.Depth, 1, StoreLimits.DefaultMaxCallDepth / 40);
    }

    [Theory]
    [InlineData(WasmValueType.I64, 100)]
    [InlineData(WasmValueType.I64, 2_000)]
    [InlineData(WasmValueType.I64, 20_000)]
    [InlineData(WasmValueType.I32, 20_000)]
    [InlineData(WasmValueType.F64, 30_000)]
    [InlineData(WasmValueType.ExternRef, MaxLocals)]
    public void ChargedStack_CoversTheFrameTheJitReallyAllocates(WasmValueType type, int locals)
    {
        // The real frame: where a host probe's local lies one recursion level deeper, both probes taken in one call so
        // they are on the same guest thread (two calls may run on two pooled threads with unrelated stacks).
        var wasm = ProbedRecursive(locals, type);
        var realFrame = ProbeOneLevelApart(wasm);

        // The charge: how deep the same function nests within the largest budget.
        var limit = StoreLimits.MaxSupportedCallDepth;
        var instance = Harness.Instantiate(wasm, new StoreLimitsBuilder().CallDepth(limit).Build(), define: DefineProbe);
        Assert.Equal(TrapKind.CallStackExhausted, Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke(WasmValue.FromI32(-1))).Kind);
        var depth = instance.GetGlobal("depth")!.Value.I32;
        var chargedBytes = (long)(limit / depth) * StoreLimits.StackUnitBytes;

        output.WriteLine($"{locals} {type} locals: real frame {realFrame} bytes, charged {chargedBytes} bytes ({limit / depth} units)");
        Assert.InRange(realFrame, 1, chargedBytes);
    }

    [Fact]
    public void NestedStore_RunInsideAHostFunction_GetsOnlyTheCallersRemainingBudget()
    {
        // The outer guest recurses until it is nearly out of budget, then a host function runs another store's
        // large-frame recursion inline on the same thread (as a nested job does): it must trap, not overflow.
        var inner = SelfRecursive(20_000, WasmValueType.I64);
        var innerDepths = new List<int>();
        var module = new TestModule();
        var nested = module.ImportFunction("env", "nested", [], []);
        var f = module.Function([WasmValueType.I32], [], new Code()
            .LocalGet(0).Op(Ops.I32Eqz).If().Call(nested).Else().LocalGet(0).I32Const(1).Op(Ops.I32Sub).Call(nested + 1).End());
        module.Export("f", f);
        var outer = Harness.Instantiate(module.Build(), define: l => l.Define("env", "nested", new FuncType([], []), (_, _, _) =>
        {
            var run = RunToTrap(inner);
            Assert.Equal(TrapKind.CallStackExhausted, run.Kind);
            innerDepths.Add(run.Depth);
        }));

        outer.GetFunction("f")!.Invoke(WasmValue.FromI32(0));
        outer.GetFunction("f")!.Invoke(WasmValue.FromI32(StoreLimits.DefaultMaxCallDepth - 10));

        Assert.Equal(2, innerDepths.Count);
        Assert.True(innerDepths[1] < innerDepths[0], $"inner depth {innerDepths[1]} with the caller nearly out of budget, {innerDepths[0]} fresh");
    }

    [Fact]
    public void HostReentry_DeepGuestHostGuestRecursion_TrapsCallStackExhausted()
    {
        // f calls the host, which calls f again, forever.
        Function? self = null;
        var module = new TestModule();
        var host = module.ImportFunction("env", "again", [], []);
        module.Export("f", module.Function([], [], new Code().Call(host), Enumerable.Repeat(WasmValueType.I64, 3_000).ToArray()));
        var instance = Harness.Instantiate(module.Build(), define: l => l.Define("env", "again", new FuncType([], []), (_, _, _) => self!.Invoke()));
        self = instance.GetFunction("f");

        var trap = Assert.Throws<WasmTrapException>(() => self!.Invoke());

        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
    }

    [Fact]
    public void CallStackExhausted_AfterALargeFrameTrap_TheStoreAndEngineKeepWorking()
    {
        var instance = Harness.Instantiate(SelfRecursive(MaxLocals, WasmValueType.I64));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(TrapKind.CallStackExhausted, Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke(WasmValue.FromI64(0))).Kind);
        }

        var sum = Harness.Instantiate(Harness.Single(Harness.I32, Harness.I32, new Code().LocalGet(0).I32Const(1).Op(Ops.I32Add)));
        Assert.Equal(42, Harness.Call(sum, "f", Harness.I(41)).I32);
    }

    /// <summary>The issue's shape: f(x: i64) with <paramref name="locals"/> locals recursing on x + local + 1.</summary>
    internal static byte[] SelfRecursive(int locals, WasmValueType type)
    {
        var module = new TestModule();
        var depth = module.Global(WasmValueType.I32, true, new Code().I32Const(0));
        var code = Count(depth);
        code = type == WasmValueType.I64
            ? code.LocalGet(locals).LocalGet(0).Op(Ops.I64Add)
            : code.LocalGet(locals).Drop().LocalGet(0);
        code.I64Const(1).Op(Ops.I64Add).Call(0);
        module.Export("f", module.Function([WasmValueType.I64], [], code, Enumerable.Repeat(type, locals).ToArray()));
        module.ExportKind("depth", 0x03, (uint)depth);
        return module.Build();
    }

    private static Code Count(int global) => new Code().GlobalGet(global).I32Const(1).Op(Ops.I32Add).GlobalSet(global);

    private static (TrapKind Kind, long Fuel, int Depth) RunToTrap(byte[] wasm, StoreLimits? limits = null)
    {
        var instance = Harness.Instantiate(wasm, limits ?? new StoreLimitsBuilder().Fuel(1_000_000_000).Build());
        var f = instance.GetFunction("f")!;
        WasmValue[] args = f.Type.Parameters.Count == 0 ? [] : [WasmValue.FromI64(0)];
        var trap = Assert.Throws<WasmTrapException>(() => f.Invoke(args));
        return (trap.Kind, instance.Store.FuelConsumed, instance.GetGlobal("depth")!.Value.I32);
    }

    /// <summary>f(n: i32): counts its depth; at n == 0 calls the probe, else f(n - 1); every local is live across the call.</summary>
    private static byte[] ProbedRecursive(int locals, WasmValueType type)
    {
        var module = new TestModule();
        module.ImportFunction("env", "probe", [], []);
        var depth = module.Global(WasmValueType.I32, true, new Code().I32Const(0));
        var code = Count(depth).LocalGet(0).Op(Ops.I32Eqz).If().Call(0).Else().LocalGet(0).I32Const(1).Op(Ops.I32Sub).Call(1).End();
        var f = module.Function([WasmValueType.I32], [], code.LocalGet(locals).Drop(), Enumerable.Repeat(type, locals).ToArray());
        module.Export("f", f);
        module.Export("f0then1", module.Function([], [], new Code().I32Const(0).Call(f).I32Const(1).Call(f)));
        module.ExportKind("depth", 0x03, (uint)depth);
        return module.Build();
    }

    private static void DefineProbe(Linker linker) => linker.Define("env", "probe", new FuncType([], []), (_, _, _) => StackAddress());

    private static unsafe nint StackAddress()
    {
        var marker = 0;
        return (nint)(&marker);
    }

    /// <summary>The distance between the probe's stack address under f(0) and under f(1), called one after the other.</summary>
    private static long ProbeOneLevelApart(byte[] wasm)
    {
        var probes = new List<nint>();
        var instance = Harness.Instantiate(wasm, define: l => l.Define("env", "probe", new FuncType([], []), (_, _, _) => probes.Add(StackAddress())));
        instance.GetFunction("f0then1")!.Invoke();
        Assert.Equal(2, probes.Count);
        return probes[0] - probes[1];
    }
}
