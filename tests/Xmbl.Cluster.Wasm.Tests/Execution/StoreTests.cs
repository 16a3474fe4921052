using static Xmbl.Cluster.Wasm.Tests.Execution.Harness;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

[Trait("Suite", "Functional")]
public sealed class StoreTests
{
    /// <summary>sum(n): block { loop { br_if 1 (n == 0); acc += n; n -= 1; br 0 } } acc.</summary>
    private static byte[] SumModule()
    {
        var body = new Code()
            .Block().Loop()
            .LocalGet(0).Op(Ops.I32Eqz).BrIf(1)
            .LocalGet(1).LocalGet(0).Op(Ops.I32Add).LocalSet(1)
            .LocalGet(0).I32Const(1).Op(Ops.I32Sub).LocalSet(0)
            .Br(0).End().End()
            .LocalGet(1);
        return Single(I32, I32, body, WasmValueType.I32);
    }

    private static byte[] InfiniteLoop() => Single([], [], new Code().Loop().Br(0).End());

    [Fact]
    public void Fuel_InfiniteLoop_TrapsOutOfFuelAndTheHostSurvives()
    {
        var instance = Instantiate(InfiniteLoop(), new StoreLimitsBuilder().Fuel(100_000).Build());
        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke());
        Assert.Equal(TrapKind.OutOfFuel, trap.Kind);
        Assert.Equal(0, instance.Store.FuelRemaining);
        Assert.Equal(100_000, instance.Store.FuelConsumed);

        // The store is still usable after more fuel is added.
        instance.Store.AddFuel(50);
        Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke());
    }

    [Fact]
    public void Fuel_SameModuleAndInput_ConsumesExactlyTheSameFuelEveryRun()
    {
        var wasm = SumModule();
        var counts = new List<long>();
        for (var run = 0; run < 3; run++)
        {
            var instance = Instantiate(wasm, new StoreLimitsBuilder().Fuel(1_000_000).Build());
            Assert.Equal(500500, Call(instance, "f", I(1000)).I32);
            counts.Add(instance.Store.FuelConsumed);
        }

        Assert.All(counts, c => Assert.Equal(counts[0], c));
    }

    [Fact]
    public void Fuel_CostModel_IsWasmtimes_OnePerEntryAndInstruction_StructureFree()
    {
        // sum(n): the function entry 1; block, loop 0; loop head [local.get, i32.eqz, br_if] = 3; after br_if
        // [local.get x2, add, set, local.get, const, sub, set, br] = 9; after the outer end [local.get] = 1 (the final
        // end costs 0). For n iterations: 1 + 3 + 9 per iteration, plus the exiting loop head 3, plus 1.
        const int n = 10;
        var instance = Instantiate(SumModule(), new StoreLimitsBuilder().Fuel(1_000_000).Build());
        Call(instance, "f", I(n));
        Assert.Equal(1 + (n * 12) + 3 + 1, instance.Store.FuelConsumed);
    }

    [Fact]
    public void Fuel_MeteringOff_ConsumesNothing()
    {
        var instance = Instantiate(SumModule(), new StoreLimitsBuilder().Fuel(10).Build(), fuel: false);
        Assert.Equal(500500, Call(instance, "f", I(1000)).I32);
        Assert.Equal(0, instance.Store.FuelConsumed);
    }

    [Fact]
    public void Memory_GrowBeyondStoreLimit_ReturnsMinusOne()
    {
        // grow by 1 page until it fails; return the page count reached.
        var body = new Code()
            .Block().Loop()
            .I32Const(1).MemoryGrow().I32Const(-1).Op(Ops.I32Eq).BrIf(1)
            .Br(0).End().End()
            .MemorySize();
        var module = new TestModule().Memory(1);
        module.Export("f", module.Function([], I32, body));
        var instance = Instantiate(module.Build(), new StoreLimitsBuilder().MemoryPages(16).Build());
        Assert.Equal(16, Call(instance, "f").I32);
    }

    [Fact]
    public void Memory_InitialSizeAboveStoreLimit_TrapsMemoryLimitExceeded()
    {
        var module = new TestModule().Memory(100);
        var trap = Assert.Throws<WasmTrapException>(() => Instantiate(module.Build(), new StoreLimitsBuilder().MemoryPages(10).Build()));
        Assert.Equal(TrapKind.MemoryLimitExceeded, trap.Kind);
    }

    [Fact]
    public void Table_InitialSizeAboveStoreLimit_TrapsTableLimitExceeded()
    {
        var module = new TestModule().Table(1000);
        var trap = Assert.Throws<WasmTrapException>(() => Instantiate(module.Build(), new StoreLimitsBuilder().TableElements(10).Build()));
        Assert.Equal(TrapKind.TableLimitExceeded, trap.Kind);
    }

    [Fact]
    public void CallDepth_InfiniteRecursion_TrapsCallStackExhaustedWithoutKillingTheProcess()
    {
        var module = new TestModule();
        module.Export("f", module.Function([], [], new Code().Call(0)));
        var instance = Instantiate(module.Build());
        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke());
        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
        Assert.Contains("call stack exhausted", trap.Message, StringComparison.Ordinal);

        // Depth accounting is restored: a second overflow is detected the same way.
        Assert.Equal(TrapKind.CallStackExhausted, Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke()).Kind);
    }

    [Fact]
    public void CallDepth_RecursionWithManyLocals_StillTrapsCleanly()
    {
        // Each frame holds 200 i64 locals: the stack probe for large frames keeps this a trap, not a crash.
        var module = new TestModule();
        var locals = Enumerable.Repeat(WasmValueType.I64, 200).ToArray();
        module.Export("f", module.Function([], [], new Code().Call(0), locals));
        var instance = Instantiate(module.Build(), new StoreLimitsBuilder().CallDepth(StoreLimits.MaxSupportedCallDepth).Build());
        Assert.Equal(TrapKind.CallStackExhausted, Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke()).Kind);
    }

    [Fact]
    public void CallDepth_ConfiguredLimit_AllowsExactlyThatDepth()
    {
        // f(n) = n == 0 ? 0 : f(n - 1): n + 1 frames.
        var module = new TestModule();
        module.Export("f", module.Function(I32, I32, new Code()
            .LocalGet(0).Op(Ops.I32Eqz).If(0x7F).I32Const(0).Else().LocalGet(0).I32Const(1).Op(Ops.I32Sub).Call(0).End()));
        var instance = Instantiate(module.Build(), new StoreLimitsBuilder().CallDepth(100).Build());
        Assert.Equal(0, Call(instance, "f", I(99)).I32);
        Assert.Equal(TrapKind.CallStackExhausted, Assert.Throws<WasmTrapException>(() => Call(instance, "f", I(100))).Kind);
    }

    [Fact]
    public void WallClock_InfiniteLoopWithoutFuel_TrapsTimeout()
    {
        var instance = Instantiate(InfiniteLoop(), new StoreLimitsBuilder().WallClock(TimeSpan.FromMilliseconds(50)).Build(), fuel: false);
        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke());
        Assert.Equal(TrapKind.Timeout, trap.Kind);
    }

    [Fact]
    public void Cancellation_CancelledToken_StopsTheGuest()
    {
        using var cts = new CancellationTokenSource();
        var instance = Instantiate(InfiniteLoop(), new StoreLimitsBuilder().Cancellation(cts.Token).Build(), fuel: false);
        var running = Task.Run(() => instance.GetFunction("f")!.Invoke());
        cts.Cancel();
        var trap = Assert.Throws<WasmTrapException>(() => running.GetAwaiter().GetResult());
        Assert.Equal(TrapKind.Timeout, trap.Kind);
    }

    [Fact]
    public void ConsumeFuel_MoreThanLeft_TrapsOutOfFuel()
    {
        var store = new Store(new WasmEngine(), new StoreLimitsBuilder().Fuel(10).Build());
        store.ConsumeFuel(4);
        Assert.Equal(6, store.FuelRemaining);
        Assert.Equal(TrapKind.OutOfFuel, Assert.Throws<WasmTrapException>(() => store.ConsumeFuel(7)).Kind);
    }
}
