using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Out-of-line implementations of the memory, table and segment instructions. The operands come first (in wasm
/// stack order) and the context last, so generated code pushes the context and calls without shuffling.
/// Bulk operations charge dynamic fuel when metering is on, as Wasmtime does: 1 unit per byte, per table element and
/// (for the grows, whether or not they succeed) per page or element asked for. The charge never traps by itself: like
/// Wasmtime, the engine checks fuel only at function entries and loop headers.
/// </summary>
internal static unsafe class RuntimeOps
{

    /// <summary>Code pointer of defined function <paramref name="definedIndex"/>; translates it on its first call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nint FunctionEntry(InstanceContext ctx, int definedIndex)
    {
        var entry = ctx.FunctionEntries[definedIndex];
        return entry != 0 ? entry : ctx.Code!.GetEntry(definedIndex);
    }

    /// <summary><c>ref.func</c>: the function object of function index <paramref name="index"/> (created on first use).</summary>
    public static Function FunctionRef(int index, InstanceContext ctx) => ctx.GetFunction(index);

    public static int MemoryGrow(int delta, InstanceContext ctx)
    {
        var memory = ctx.Memory0!;
        Charge(ctx, (uint)delta);
        return memory.GrowCore((uint)delta);
    }

    public static void MemoryFill(int dst, int value, int count, InstanceContext ctx)
    {
        var memory = ctx.Memory0!;
        if ((ulong)(uint)dst + (uint)count > memory.ByteLength)
        {
            Traps.Throw(TrapKind.MemoryOutOfBounds);
        }

        Charge(ctx, (uint)count);
        new Span<byte>((byte*)memory.BaseAddress + (uint)dst, count).Fill((byte)value);
    }

    public static void MemoryCopy(int dst, int src, int count, InstanceContext ctx)
    {
        var memory = ctx.Memory0!;
        var length = memory.ByteLength;
        if ((ulong)(uint)dst + (uint)count > length || (ulong)(uint)src + (uint)count > length)
        {
            Traps.Throw(TrapKind.MemoryOutOfBounds);
        }

        Charge(ctx, (uint)count);
        Buffer.MemoryCopy((byte*)memory.BaseAddress + (uint)src, (byte*)memory.BaseAddress + (uint)dst, (long)(uint)count, (long)(uint)count);
    }

    public static void MemoryInit(int dst, int src, int count, int segment, InstanceContext ctx)
    {
        var memory = ctx.Memory0!;
        var data = ctx.DataSegments[segment].Span;
        if ((ulong)(uint)dst + (uint)count > memory.ByteLength || (ulong)(uint)src + (uint)count > (ulong)data.Length)
        {
            Traps.Throw(TrapKind.MemoryOutOfBounds);
        }

        Charge(ctx, (uint)count);
        data.Slice(src, count).CopyTo(new Span<byte>((byte*)memory.BaseAddress + (uint)dst, count));
    }

    public static void DataDrop(int segment, InstanceContext ctx) => ctx.DataSegments[segment] = ReadOnlyMemory<byte>.Empty;

    public static object? TableGet(int index, int table, InstanceContext ctx)
    {
        var elements = ctx.Tables[table].Elements;
        if ((uint)index >= (uint)elements.Length)
        {
            Traps.ThrowTableOutOfBounds();
        }

        return elements[index];
    }

    public static void TableSet(int index, object? value, int table, InstanceContext ctx)
    {
        var elements = ctx.Tables[table].Elements;
        if ((uint)index >= (uint)elements.Length)
        {
            Traps.ThrowTableOutOfBounds();
        }

        elements[index] = value;
    }

    public static int TableSize(int table, InstanceContext ctx) => ctx.Tables[table].Elements.Length;

    public static int TableGrow(object? init, int delta, int table, InstanceContext ctx)
    {
        Charge(ctx, (uint)delta);
        return ctx.Tables[table].GrowCore((uint)delta, init);
    }

    public static void TableFill(int index, object? value, int count, int table, InstanceContext ctx)
    {
        var elements = ctx.Tables[table].Elements;
        if ((ulong)(uint)index + (uint)count > (ulong)elements.Length)
        {
            Traps.ThrowTableOutOfBounds();
        }

        Charge(ctx, (uint)count);
        elements.AsSpan(index, count).Fill(value);
    }

    public static void TableCopy(int dst, int src, int count, int dstTable, int srcTable, InstanceContext ctx)
    {
        var target = ctx.Tables[dstTable].Elements;
        var source = ctx.Tables[srcTable].Elements;
        if ((ulong)(uint)dst + (uint)count > (ulong)target.Length || (ulong)(uint)src + (uint)count > (ulong)source.Length)
        {
            Traps.ThrowTableOutOfBounds();
        }

        Charge(ctx, (uint)count);
        Array.Copy(source, src, target, dst, count);
    }

    public static void TableInit(int dst, int src, int count, int segment, int table, InstanceContext ctx)
    {
        var target = ctx.Tables[table].Elements;
        var items = ctx.ElementSegments[segment];
        if ((ulong)(uint)dst + (uint)count > (ulong)target.Length || (ulong)(uint)src + (uint)count > (ulong)items.Length)
        {
            Traps.ThrowTableOutOfBounds();
        }

        Charge(ctx, (uint)count);
        Array.Copy(items, src, target, dst, count);
    }

    public static void ElemDrop(int segment, InstanceContext ctx) => ctx.ElementSegments[segment] = [];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Charge(InstanceContext ctx, long units)
    {
        if (ctx.Metered && units > 0)
        {
            ctx.Store.FuelLeft -= units;
        }
    }
}
