namespace Xmbl.Cluster.Wasm;

/// <summary>One import of a compiled module.</summary>
/// <param name="Module">The import's module name.</param>
/// <param name="Name">The import's field name.</param>
/// <param name="Kind">What is imported.</param>
/// <param name="FunctionType">The signature, for function imports.</param>
/// <param name="ValueType">The element type of a table or the value type of a global.</param>
/// <param name="Mutable">Whether an imported global is mutable.</param>
/// <param name="Min">Minimum size of a table (elements) or memory (pages).</param>
/// <param name="Max">Maximum size of a table or memory, if declared.</param>
public sealed record ImportInfo(
    string Module,
    string Name,
    WasmExternKind Kind,
    FuncType? FunctionType = null,
    WasmValueType ValueType = default,
    bool Mutable = false,
    long Min = 0,
    long? Max = null);
