using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>Trap construction for generated code (kept out of line so hot paths stay small).</summary>
internal static class Traps
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception Create(int kind) => (TrapKind)kind switch
    {
        // call_indirect past the table's end: the spec says "undefined element".
        TrapKind.TableOutOfBounds => new WasmTrapException(TrapKind.TableOutOfBounds, "undefined element"),
        _ => new WasmTrapException((TrapKind)kind),
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception UninitializedElement(int index) =>
        new WasmTrapException(TrapKind.UninitializedElement, "uninitialized element " + ((uint)index).ToString(System.Globalization.CultureInfo.InvariantCulture));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(TrapKind kind) => throw new WasmTrapException(kind);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowTableOutOfBounds() => throw new WasmTrapException(TrapKind.TableOutOfBounds);
}
