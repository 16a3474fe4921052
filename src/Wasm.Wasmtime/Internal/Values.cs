using Wt = global::Wasmtime;

namespace Xmbl.Cluster.Wasm.Wasmtime.Internal;

/// <summary>Converts between our <see cref="WasmValue"/> and Wasmtime's boxes, keeping float bits (NaN payloads) intact.</summary>
internal static class Values
{
    public static Wt.ValueBox ToBox(in WasmValue value) => value.Type switch
    {
        WasmValueType.I32 => value.I32,
        WasmValueType.I64 => value.I64,
        WasmValueType.F32 => BitConverter.UInt32BitsToSingle(value.F32Bits),
        WasmValueType.F64 => BitConverter.UInt64BitsToDouble(value.F64Bits),
        _ => throw new NotSupportedException($"A {value.Type} value cannot be passed to or from the host here."),
    };

    public static WasmValue FromBox(in Wt.ValueBox box, WasmValueType type) => type switch
    {
        WasmValueType.I32 => WasmValue.FromI32(box.AsInt32()),
        WasmValueType.I64 => WasmValue.FromI64(box.AsInt64()),
        WasmValueType.F32 => WasmValue.FromF32(box.AsSingle()),
        WasmValueType.F64 => WasmValue.FromF64(box.AsDouble()),
        _ => throw new NotSupportedException($"A {type} value cannot be passed to or from the host here."),
    };

    /// <summary>What <c>Function.Invoke</c> returned: null for no results, the value for one, an array for several.</summary>
    public static IReadOnlyList<WasmValue> FromResults(object? returned, IReadOnlyList<WasmValueType> types) => types.Count switch
    {
        0 => [],
        1 => [FromObject(returned, types[0])],
        _ => [.. ((object?[])returned!).Select((value, i) => FromObject(value, types[i]))],
    };

    private static WasmValue FromObject(object? value, WasmValueType type) => value switch
    {
        int i => WasmValue.FromI32(i),
        long l => WasmValue.FromI64(l),
        float f => WasmValue.FromF32(f),
        double d => WasmValue.FromF64(d),
        _ => WasmValue.FromRef(type is WasmValueType.FuncRef ? WasmValueType.FuncRef : WasmValueType.ExternRef, null),
    };
}
