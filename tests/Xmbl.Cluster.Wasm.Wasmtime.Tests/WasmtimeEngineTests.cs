using System.Diagnostics;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Wasm;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Wasi;
using static Xmbl.Cluster.Testing.Wasm.WasmModuleWriter;

namespace Xmbl.Cluster.Wasm.Wasmtime.Tests;

/// <summary>The Wasmtime backend's own duties: the disk cache, limits through epochs and store limits, host
/// functions, and hostile modules ending in a clear error or a clean trap (on both engines where both apply).</summary>
[Trait("Suite", "Functional")]
public sealed class WasmtimeEngineTests
{
    [Fact]
    public void Compile_AfterRestartWithTheSameCacheDirectory_LoadsTheModuleWithoutCompiling()
    {
        using var directory = new TempDirectory();
        var wasm = EngineHarness.Fixture("hello");
        using (var first = new WasmtimeEngine(new WasmtimeEngineOptions { CacheDirectory = directory.Path }))
        {
            first.Compile(wasm);
            Assert.Equal(1, first.CompiledCount);
        }

        using var restarted = new WasmtimeEngine(new WasmtimeEngineOptions { CacheDirectory = directory.Path });
        var module = restarted.Compile(wasm);
        var run = EngineHarness.Run(restarted, wasm);

        Assert.Equal(0, restarted.CompiledCount);
        Assert.Equal(1, restarted.LoadedFromDiskCount);
        Assert.Contains(module.Exports, e => e.Name == "_start");
        Assert.Equal("Hello, world!\n", run.Stdout);
    }

    [Fact]
    public void Compile_DamagedCacheFile_CompilesAgainAndReplacesIt()
    {
        using var directory = new TempDirectory();
        var wasm = EngineHarness.Fixture("hello");
        using (var first = new WasmtimeEngine(new WasmtimeEngineOptions { CacheDirectory = directory.Path }))
        {
            first.Compile(wasm);
        }

        var file = Assert.Single(Directory.GetFiles(directory.Path, "*.cwasm"));
        File.WriteAllBytes(file, [1, 2, 3, 4]);
        using var restarted = new WasmtimeEngine(new WasmtimeEngineOptions { CacheDirectory = directory.Path });
        var run = EngineHarness.Run(restarted, wasm);

        Assert.Equal(1, restarted.CompiledCount);
        Assert.Equal("Hello, world!\n", run.Stdout);
        Assert.True(new FileInfo(file).Length > 4);
    }

    [Fact]
    public void Compile_InvalidBytes_IsRejectedWithAOneLineReason()
    {
        var ex = Assert.Throws<WasmModuleRejectedException>(() => EngineHarness.Wasmtime.Compile(new byte[] { 0, 0x61, 0x73, 0x6D, 1, 0, 0, 0, 5 }));

        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains("end-of-file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EndlessLoopPastTheWallClockLimit_TrapsTimeoutSoon()
    {
        var limits = new StoreLimitsBuilder().WallClock(TimeSpan.FromMilliseconds(200)).Build();
        var watch = Stopwatch.StartNew();

        var run = EngineHarness.Run(EngineHarness.Wasmtime, HostileModules.EndlessLoop().Wasm, limits: limits);

        Assert.Equal(WasmRunEnd.Trapped, run.End);
        Assert.Equal(TrapKind.Timeout, run.Trap);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Run_CancelledWhileLooping_TrapsTimeout()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var limits = new StoreLimitsBuilder().Cancellation(cancellation.Token).Build();

        var run = EngineHarness.Run(EngineHarness.Wasmtime, HostileModules.EndlessLoop().Wasm, limits: limits);

        Assert.Equal(TrapKind.Timeout, run.Trap);
    }

    [Fact]
    public void Run_OutOfFuel_OnBothEngines_ReportsTheLimitAsFuelUsed()
    {
        var limits = new StoreLimitsBuilder().Fuel(123_456).Build();
        foreach (var engine in EngineHarness.Both)
        {
            var run = EngineHarness.Run(engine, HostileModules.EndlessLoop().Wasm, limits: limits);

            Assert.Equal(TrapKind.OutOfFuel, run.Trap);
            Assert.Equal(123_456, run.Fuel);
        }
    }

    [Fact]
    public void Run_TableOfTenMillionEntries_OnBothEngines_TrapsTableLimitExceeded()
    {
        var wasm = HostileModules.BigTable(10_000_000, 0).Wasm;
        foreach (var engine in EngineHarness.Both)
        {
            var run = EngineHarness.Run(engine, wasm);

            Assert.Equal(WasmRunEnd.Trapped, run.End);
            Assert.Equal(TrapKind.TableLimitExceeded, run.Trap);
        }
    }

    [Fact]
    public void Run_InitialMemoryOverTheLimit_OnBothEngines_TrapsMemoryLimitExceeded()
    {
        var wasm = HostileModules.BigMemory(300, 0, 0).Wasm;
        var limits = new StoreLimitsBuilder().MemoryPages(100).Build();
        foreach (var engine in EngineHarness.Both)
        {
            var run = EngineHarness.Run(engine, wasm, limits: limits);

            Assert.Equal(TrapKind.MemoryLimitExceeded, run.Trap);
        }
    }

    [Fact]
    public void Run_ModuleOfOneHundredThousandFunctions_OnBothEngines_CompilesAndRuns()
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], [I32]);
        for (var i = 0; i < 99_999; i++)
        {
            w.Function(t, [], [0x41, .. SignedLeb(i)]);
        }

        // 100,000 functions with _start, the managed validator's MaxFunctions.
        var start = w.Type([], []);
        w.Export("_start", 0, w.Function(start, [], [0x10, .. Leb(99_998), 0x1A]));
        var wasm = w.Build();
        foreach (var engine in EngineHarness.Both)
        {
            var run = EngineHarness.Run(engine, wasm);

            Assert.Equal(WasmRunEnd.Exited, run.End);
            Assert.Equal(0, run.ExitCode);
        }
    }

    [Fact]
    public void Run_FillHalfAGibibyte_CostsAFuelUnitPerByteAndPageOnBothEngines()
    {
        // memory.grow to 8,192 pages, then memory.fill over all of it: 1 unit per page grown and per byte filled
        // (docs/jobs.md, Engines), which a job's fuel limit must allow for.
        const uint Pages = 8_192;
        const long Bytes = Pages * 65_536L;
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        w.Memory(1);
        w.Export("_start", 0, w.Function(t, [], [0x41, .. SignedLeb(Pages - 1), 0x40, 0x00, 0x1A, 0x41, 0x00, 0x41, 0x01, 0x41, .. SignedLeb(Bytes), 0xFC, 0x0B, 0x00]));
        w.Export("memory", 2, 0);
        var wasm = w.Build();
        var limits = new StoreLimitsBuilder().Fuel(10_000_000_000).MemoryPages((int)Pages).Build();

        var wasmtime = EngineHarness.Run(EngineHarness.Wasmtime, wasm, limits: limits);
        var managed = EngineHarness.Run(EngineHarness.Managed, wasm, limits: limits);

        Assert.Equal(WasmRunEnd.Exited, wasmtime.End);
        Assert.Equal(WasmRunEnd.Exited, managed.End);
        // Every byte filled and page grown, plus 7: the entry, i32.const and memory.grow, three i32.const and memory.fill.
        Assert.Equal(Bytes + (Pages - 1) + 7, wasmtime.Fuel);
        Assert.Equal(wasmtime.Fuel, managed.Fuel);
    }

    [Fact]
    public void Run_TenThousandNestedBlocks_OnBothEngines_Exits()
    {
        var wasm = HostileModules.DeepNesting(HostileModules.MaxControlDepth, 0).Wasm;
        foreach (var engine in EngineHarness.Both)
        {
            Assert.Equal(WasmRunEnd.Exited, EngineHarness.Run(engine, wasm).End);
        }
    }

    [Fact]
    public void Run_ImportOfAnUnknownFunction_OnBothEngines_FailsToLink()
    {
        var w = new WasmModuleWriter();
        w.ImportFunction("env", "nowhere", [], []);
        var t = w.Type([], []);
        w.Export("_start", 0, w.Function(t, [], [0x10, 0x00]));
        var wasm = w.Build();
        foreach (var engine in EngineHarness.Both)
        {
            var run = EngineHarness.Run(engine, wasm);

            Assert.Equal(WasmRunEnd.LinkFailed, run.End);
            Assert.Contains("nowhere", run.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Run_StdoutThatThrows_OnBothEngines_EndsInATrapCarryingTheException()
    {
        foreach (var engine in EngineHarness.Both)
        {
            var run = EngineHarness.Run(engine, EngineHarness.Fixture("hello"), stdout: new ThrowingStream());

            Assert.Equal(WasmRunEnd.Trapped, run.End);
            Assert.Equal(TrapKind.HostError, run.Trap);
            Assert.IsType<ThrowingStream.RefusedException>(run.HostException);
        }
    }

    [Fact]
    public void Run_HostFunction_OnBothEngines_ReadsMemoryChargesFuelAndReturns()
    {
        // (import "xmbl" "probe" (func (param i32 i32) (result i64))); _start stores 0x2A at 16, calls probe(16, 1)
        // and exits with its result through proc_exit.
        var w = new WasmModuleWriter();
        var probe = w.ImportFunction("xmbl", "probe", [I32, I32], [I64]);
        var exit = w.ImportFunction(WasiContext.ModuleName, "proc_exit", [I32], []);
        w.Memory(1);
        w.Export("memory", 2, 0);
        var t = w.Type([], []);
        w.Export("_start", 0, w.Function(t, [], [0x41, 0x10, 0x41, 0x2A, 0x3A, 0x00, 0x00, 0x41, 0x10, 0x41, 0x01, 0x10, .. Leb(probe), 0xA7, 0x10, .. Leb(exit)]));
        var wasm = w.Build();
        var type = new FuncType([WasmValueType.I32, WasmValueType.I32], [WasmValueType.I64]);
        var probeFunction = new WasmHostFunction("xmbl", "probe", type, (call, args, results) =>
        {
            call.ConsumeFuel(1_000);
            results[0] = WasmValue.FromI64(call.Memory((uint)args[0].I32, args[1].I32)[0] + (call.MemoryPages ?? 0));
        });

        foreach (var engine in EngineHarness.Both)
        {
            var withCharge = EngineHarness.Run(engine, wasm, hostFunctions: [probeFunction]);
            var free = EngineHarness.Run(engine, wasm, hostFunctions: [probeFunction with { Callback = (call, args, results) => results[0] = WasmValue.FromI64(call.Memory((uint)args[0].I32, args[1].I32)[0] + (call.MemoryPages ?? 0)) }]);

            Assert.Equal(WasmRunEnd.Exited, withCharge.End);
            Assert.Equal(0x2A + 1, withCharge.ExitCode);
            Assert.Equal(1_000, withCharge.Fuel - free.Fuel);
        }
    }

    [Fact]
    public void Run_SimdModule_RunsOnWasmtimeAndIsRejectedByTheManagedEngine()
    {
        // (func (export "lane") (result i32) (i32x4.extract_lane 2 (v128.const i32x4 1 2 3 4)))
        var w = new WasmModuleWriter();
        var t = w.Type([], [I32]);
        byte[] constant = [0xFD, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0];
        w.Export("lane", 0, w.Function(t, [], [.. constant, 0xFD, 0x1B, 0x02]));
        var wasm = w.Build();

        var run = EngineHarness.Run(EngineHarness.Wasmtime, wasm, export: "lane");

        Assert.Equal(WasmRunEnd.Returned, run.End);
        Assert.Throws<WasmModuleRejectedException>(() => EngineHarness.Managed.Compile(wasm));
        var result = EngineHarness.Wasmtime.Run(EngineHarness.Wasmtime.Compile(wasm), new WasmRunRequest { Export = "lane", Wasi = new WasiConfiguration() });
        Assert.Equal(3, Assert.Single(result.Results).I32);
    }

    [Fact]
    public void Run_NestedRunFromAHostFunction_RunsTheChildOnItsOwnStore()
    {
        var child = EngineHarness.Wasmtime.Compile(EngineHarness.Fixture("hello"));
        var output = new MemoryStream();
        var w = new WasmModuleWriter();
        var nested = w.ImportFunction("xmbl", "nested", [], [I32]);
        var t = w.Type([], []);
        w.Export("_start", 0, w.Function(t, [], [0x10, .. Leb(nested), 0x1A]));
        var nestedFunction = new WasmHostFunction("xmbl", "nested", new FuncType([], [WasmValueType.I32]), (call, _, results) =>
        {
            var run = EngineHarness.Wasmtime.Run(child, new WasmRunRequest { Wasi = new WasiConfiguration { Stdout = output }.MakeDeterministic(1) });
            call.ConsumeFuel(run.FuelConsumed);
            results[0] = WasmValue.FromI32(run.ExitCode);
        });

        var parent = EngineHarness.Run(EngineHarness.Wasmtime, w.Build(), hostFunctions: [nestedFunction]);

        Assert.Equal(WasmRunEnd.Exited, parent.End);
        Assert.Equal("Hello, world!\n", System.Text.Encoding.UTF8.GetString(output.ToArray()));
        Assert.True(parent.Fuel > 1_000);
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new RefusedException();

        public override void Write(ReadOnlySpan<byte> buffer) => throw new RefusedException();

        /// <summary>Not an IOException (WASI turns those into EIO): like the job's output cap, it must end the run.</summary>
        public sealed class RefusedException : Exception;
    }
}
