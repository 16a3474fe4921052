using Xmbl.Cluster.Wasm.Tests.Wasi;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

public sealed class GuestThreadsTests
{
    [Fact]
    public async Task RunAsync_RunsTheWorkOnALargeStackThread_AndReturnsItsResult()
    {
        var caller = Environment.CurrentManagedThreadId;

        var (thread, name) = await GuestThreads.RunAsync(() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.Name));

        Assert.NotEqual(caller, thread);
        Assert.Equal("wasm-guest", name);
    }

    [Fact]
    public async Task RunAsync_WasmCallsInside_RunOnTheSameThread_AndATrapFaultsTheTask()
    {
        var module = new TestModule();
        var f = module.Function([WasmValueType.I32], [WasmValueType.I32], new Code().LocalGet(0).I32Const(1).Op(Ops.I32Add).Call(0));
        module.Export("f", f);
        var compiled = WasiFixtures.Engine.Compile(module.Build());

        var trap = await Assert.ThrowsAsync<WasmTrapException>(() => GuestThreads.RunAsync(() =>
        {
            var instance = new Linker(WasiFixtures.Engine).Instantiate(new Store(WasiFixtures.Engine), compiled);
            return instance.GetFunction("f")!.Invoke(WasmValue.FromI32(0));
        }));

        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);
        Assert.Equal("Hello, world!\n", (await GuestThreads.RunAsync(() => WasiFixtures.Run("hello"))).StdoutText);
    }

    [Fact]
    public async Task RunAsync_ManyConcurrentRuns_AllComplete_WithTheirOwnResults()
    {
        var runs = Enumerable.Range(0, 64).Select(i => GuestThreads.RunAsync(() =>
        {
            Thread.Sleep(i % 4);
            return i * i;
        })).ToArray();

        var results = await Task.WhenAll(runs);

        Assert.Equal(Enumerable.Range(0, 64).Select(i => i * i), results);
    }

    [Fact]
    public async Task RunAsync_FromAGuestThread_RunsInline()
    {
        var (outer, inner) = await GuestThreads.RunAsync(() => (Environment.CurrentManagedThreadId, GuestThreads.RunAsync(() => Environment.CurrentManagedThreadId)));

        Assert.Equal(outer, await inner);
    }
}
