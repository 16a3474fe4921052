using Xmbl.Cluster.Wasm.Tests.Execution;
using Xmbl.Cluster.Wasm.Tests.Wasi;
using Xmbl.Cluster.Wasm.Wasi;

namespace Xmbl.Cluster.Wasm.Tests.Hostile;

/// <summary>Programs that try to run forever, eat all memory or blow the stack: each must end in a clean,
/// typed outcome while the test process carries on.</summary>
[Trait("Suite", "Functional")]
public sealed class HostileProgramTests
{
    [Fact]
    public void InfiniteLoop_FuelLimit_TrapsOutOfFuelHavingUsedTheBudget()
    {
        var limits = new StoreLimitsBuilder().Fuel(5_000_000).Build();
        var stdout = new MemoryStream();

        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("infinite_loop", c => c.Stdout = stdout, limits));

        Assert.Equal(TrapKind.OutOfFuel, trap.Kind);
        Assert.Equal("looping forever\n", System.Text.Encoding.UTF8.GetString(stdout.ToArray()));
    }

    [Fact]
    public void InfiniteLoop_SameFuelLimitTwice_StopsAtTheSameFuelCount()
    {
        long Consumed()
        {
            var module = WasiFixtures.Engine.Compile(WasiFixtures.Bytes("infinite_loop"));
            var store = new Store(WasiFixtures.Engine, new StoreLimitsBuilder().Fuel(2_000_000).Build());
            using var wasi = new WasiContext(new WasiConfiguration());
            var instance = wasi.AddToLinker(new Linker(WasiFixtures.Engine)).Instantiate(store, module);
            Assert.Throws<WasmTrapException>(() => wasi.RunCommand(instance));
            return store.FuelConsumed;
        }

        Assert.Equal(Consumed(), Consumed());
    }

    [Fact]
    public void InfiniteLoop_WallClockLimit_TrapsWithTimeout()
    {
        var limits = new StoreLimitsBuilder().WallClock(TimeSpan.FromMilliseconds(200)).Build();

        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("infinite_loop", null, limits));

        Assert.Equal(TrapKind.Timeout, trap.Kind);
    }

    [Fact]
    public void InfiniteLoop_Cancelled_TrapsWithTimeout()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var limits = new StoreLimitsBuilder().Cancellation(cts.Token).Build();

        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("infinite_loop", null, limits));

        Assert.Equal(TrapKind.Timeout, trap.Kind);
    }

    [Fact]
    public void MemoryBomb_Malloc_GetsNullAtTheCapAndExitsCleanly()
    {
        var limits = new StoreLimitsBuilder().MemoryPages(512).Build(); // 32 MiB

        var run = WasiFixtures.Run("memory_bomb", null, limits);

        Assert.Equal(0, run.ExitCode);
        var mib = int.Parse(run.StdoutText.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(mib, 25, 31);
    }

    [Fact]
    public void MemoryBomb_MemoryGrow_FailsWithMinusOneAtTheCap()
    {
        var limits = new StoreLimitsBuilder().MemoryPages(100).Build();

        var run = WasiFixtures.Run("memory_bomb", null, limits, "grow");

        Assert.Equal("grew 98 pages, now 100 pages\n", run.StdoutText);
    }

    [Fact]
    public void MemoryDeclaredAboveCap_Instantiate_TrapsMemoryLimitExceeded()
    {
        var module = new TestModule().Memory(2000);
        var compiled = WasiFixtures.Engine.Compile(module.Build());
        var store = new Store(WasiFixtures.Engine, new StoreLimitsBuilder().MemoryPages(1000).Build());

        var trap = Assert.Throws<WasmTrapException>(() => new Linker(WasiFixtures.Engine).Instantiate(store, compiled));

        Assert.Equal(TrapKind.MemoryLimitExceeded, trap.Kind);
    }

    [Fact]
    public void TableDeclaredAboveCap_Instantiate_TrapsTableLimitExceeded()
    {
        var module = new TestModule().Table(5_000_000);
        var compiled = WasiFixtures.Engine.Compile(module.Build());
        var store = new Store(WasiFixtures.Engine, new StoreLimitsBuilder().TableElements(10_000).Build());

        var trap = Assert.Throws<WasmTrapException>(() => new Linker(WasiFixtures.Engine).Instantiate(store, compiled));

        Assert.Equal(TrapKind.TableLimitExceeded, trap.Kind);
    }

    [Fact]
    public void DeepRecursion_Unbounded_TrapsCallStackExhaustedAndEngineStillWorks()
    {
        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("deep_recursion"));

        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
        Assert.Equal("Hello, world!\n", WasiFixtures.Run("hello").StdoutText);
    }

    [Fact]
    public void DeepRecursion_Mutual_TrapsCallStackExhausted()
    {
        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("deep_recursion", null, null, "1000000", "mutual"));

        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
    }

    [Fact]
    public void DeepRecursion_WithinTheLimit_Completes()
    {
        var run = WasiFixtures.Run("deep_recursion", null, null, "5000");

        Assert.Equal("depth 5000\n", run.StdoutText);
    }

    [Fact]
    public void DeepRecursion_LowerCallDepthLimit_TrapsEarlier()
    {
        var limits = new StoreLimitsBuilder().CallDepth(1000).Build();

        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("deep_recursion", null, limits, "5000"));

        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
    }

    [Fact]
    public void SelfRecursiveFunction_HandBuilt_TrapsCallStackExhausted()
    {
        var module = new TestModule();
        var f = module.Function([WasmValueType.I32], [WasmValueType.I32], new Code().LocalGet(0).I32Const(1).Op(Ops.I32Add).Call(0));
        module.Export("f", f);
        var instance = new Linker(WasiFixtures.Engine).Instantiate(new Store(WasiFixtures.Engine), WasiFixtures.Engine.Compile(module.Build()));

        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke(WasmValue.FromI32(0)));

        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
    }

    [Fact]
    public void DataSegmentOutOfBounds_Instantiate_TrapsOutOfBoundsMemoryAccess()
    {
        var module = new TestModule().Memory(1).Data(65_530, new byte[16]);
        var compiled = WasiFixtures.Engine.Compile(module.Build());

        var trap = Assert.Throws<WasmTrapException>(() => new Linker(WasiFixtures.Engine).Instantiate(new Store(WasiFixtures.Engine), compiled));

        Assert.Equal(TrapKind.MemoryOutOfBounds, trap.Kind);
    }
}
