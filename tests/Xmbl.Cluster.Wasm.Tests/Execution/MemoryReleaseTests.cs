using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

/// <summary>
/// Linear memory is released when its store is disposed, not when the GC gets round to a finalizer (issue 10: six
/// finished 1 GiB jobs kept a silo at 13.6 GB RSS until a full GC).
/// </summary>
[Trait("Suite", "Functional")]
public sealed class MemoryReleaseTests
{
    private const int Pages = 1024; // 64 MiB

    [Fact]
    public void StoreDispose_UnmapsTheMemoryItsInstanceGrew()
    {
        var module = new TestModule().Memory(1);
        module.Export("grow", module.Function(Harness.I32, Harness.I32, new Code().LocalGet(0).MemoryGrow()));
        module.ExportKind("memory", 0x02, 0);
        var store = new Store(new WasmEngine());
        var instance = new Linker(store.Engine).Instantiate(store, store.Engine.Compile(module.Build()));
        Assert.Equal(1, Harness.Call(instance, "grow", Harness.I(Pages - 1)).I32);
        var memory = instance.GetMemory("memory")!;
        memory.GetSpan(0, 1 << 20).Fill(7); // touched, so resident
        var address = BaseOf(memory);
        Assert.True(IsMapped(address, (long)Pages * Memory.PageSize), "the grown memory is mapped");

        store.Dispose();

        Assert.False(IsMapped(address, (long)Pages * Memory.PageSize), "the memory is still mapped after Dispose");
        Assert.Equal(0, memory.Pages);
        Assert.Equal(TrapKind.MemoryOutOfBounds, Assert.Throws<WasmTrapException>(() => memory.GetSpan(0, 1)).Kind);
        Assert.Equal(-1, memory.Grow(1));
    }

    [Fact]
    public void MemoryDispose_UnmapsAHostCreatedMemoryOnceAndCountsIt()
    {
        var memory = new Memory(Pages, null);
        memory.GetSpan(0, 1 << 20).Fill(1);
        var address = BaseOf(memory);
        Assert.True(IsMapped(address, (long)Pages * Memory.PageSize));
        Assert.True(Memory.AllocatedBytes >= (long)Pages * Memory.PageSize);

        memory.Dispose();
        memory.Dispose(); // idempotent

        Assert.False(IsMapped(address, (long)Pages * Memory.PageSize));
        Assert.Equal(0, memory.Length);
    }

    [Fact]
    public void StoreDispose_WhileGuestCodeRuns_IsRefused()
    {
        var module = new TestModule();
        var host = module.ImportFunction("env", "dispose", [], []);
        module.Export("f", module.Function([], [], new Code().Call(host)));
        Store? store = null;
        var instance = Harness.Instantiate(module.Build(), define: l => l.Define("env", "dispose", new FuncType([], []), (_, _, _) => store!.Dispose()));
        store = instance.Store;

        var trap = Assert.Throws<WasmTrapException>(() => instance.GetFunction("f")!.Invoke());

        Assert.IsType<InvalidOperationException>(trap.InnerException);
    }

    private static unsafe long BaseOf(Memory memory) => (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(memory.GetSpan(0, 1)));

    /// <summary>Whether /proc/self/maps has a mapping starting at <paramref name="address"/> of at least <paramref name="length"/> bytes.</summary>
    private static bool IsMapped(long address, long length)
    {
        if (address == 0)
        {
            return false;
        }

        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var range = line.AsSpan(0, line.IndexOf(' ', StringComparison.Ordinal));
            var dash = range.IndexOf('-');
            var start = long.Parse(range[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var end = long.Parse(range[(dash + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (start == address && end - start >= length)
            {
                return true;
            }
        }

        return false;
    }
}
