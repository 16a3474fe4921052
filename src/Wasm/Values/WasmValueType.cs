namespace Xmbl.Cluster.Wasm;

/// <summary>A WebAssembly value type; the numeric value is the type's binary encoding.</summary>
public enum WasmValueType : byte
{
    /// <summary>32-bit integer.</summary>
    I32 = 0x7F,

    /// <summary>64-bit integer.</summary>
    I64 = 0x7E,

    /// <summary>32-bit IEEE 754 float.</summary>
    F32 = 0x7D,

    /// <summary>64-bit IEEE 754 float.</summary>
    F64 = 0x7C,

    /// <summary>128-bit vector (decoded but not executable by this engine).</summary>
    V128 = 0x7B,

    /// <summary>A reference to a function, or null.</summary>
    FuncRef = 0x70,

    /// <summary>An opaque host reference, or null.</summary>
    ExternRef = 0x6F,
}

/// <summary>Helpers over <see cref="WasmValueType"/>.</summary>
public static class WasmValueTypeExtensions
{
    /// <summary>Whether the type is a reference type (funcref or externref).</summary>
    /// <param name="type">The value type.</param>
    /// <returns>True for <see cref="WasmValueType.FuncRef"/> and <see cref="WasmValueType.ExternRef"/>.</returns>
    public static bool IsReference(this WasmValueType type) => type is WasmValueType.FuncRef or WasmValueType.ExternRef;

    /// <summary>The text-format name of the type (<c>i32</c>, <c>funcref</c>, ...).</summary>
    /// <param name="type">The value type.</param>
    /// <returns>The lower-case name used by the WebAssembly text format.</returns>
    public static string ToWatName(this WasmValueType type) => type switch
    {
        WasmValueType.I32 => "i32",
        WasmValueType.I64 => "i64",
        WasmValueType.F32 => "f32",
        WasmValueType.F64 => "f64",
        WasmValueType.V128 => "v128",
        WasmValueType.FuncRef => "funcref",
        WasmValueType.ExternRef => "externref",
        _ => "0x" + ((byte)type).ToString("X2", System.Globalization.CultureInfo.InvariantCulture),
    };
}
