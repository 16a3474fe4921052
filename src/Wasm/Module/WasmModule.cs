namespace Xmbl.Cluster.Wasm;

/// <summary>Kind of an import or export.</summary>
internal enum ExternalKind : byte
{
    /// <summary>A function.</summary>
    Function = 0,

    /// <summary>A table.</summary>
    Table = 1,

    /// <summary>A linear memory.</summary>
    Memory = 2,

    /// <summary>A global.</summary>
    Global = 3,
}

/// <summary>Size limits of a table (elements) or memory (64 KiB pages).</summary>
internal readonly record struct Limits(uint Min, uint? Max);

/// <summary>A table type: element reference type and limits.</summary>
internal readonly record struct TableType(WasmValueType ElementType, Limits Limits);

/// <summary>A memory type: limits in pages.</summary>
internal readonly record struct MemoryType(Limits Limits);

/// <summary>A global type: value type and mutability.</summary>
internal readonly record struct GlobalType(WasmValueType ValueType, bool Mutable);

/// <summary>One import. Exactly one of the type fields applies, chosen by <see cref="Kind"/>.</summary>
internal sealed class WasmImport
{
    /// <summary>Module name.</summary>
    public required string Module { get; init; }

    /// <summary>Field name.</summary>
    public required string Name { get; init; }

    /// <summary>What is imported.</summary>
    public required ExternalKind Kind { get; init; }

    /// <summary>Type index, for functions.</summary>
    public uint FunctionTypeIndex { get; init; }

    /// <summary>Table type, for tables.</summary>
    public TableType Table { get; init; }

    /// <summary>Memory type, for memories.</summary>
    public MemoryType Memory { get; init; }

    /// <summary>Global type, for globals.</summary>
    public GlobalType Global { get; init; }

    /// <summary>Index within the index space of its kind (imports come first).</summary>
    public int IndexInKind { get; init; }
}

/// <summary>One export.</summary>
internal readonly record struct WasmExport(string Name, ExternalKind Kind, uint Index);

/// <summary>The operator of a constant expression.</summary>
internal enum ConstExprKind : byte
{
    /// <summary><c>i32.const</c>.</summary>
    I32Const,

    /// <summary><c>i64.const</c>.</summary>
    I64Const,

    /// <summary><c>f32.const</c> (value holds the bits).</summary>
    F32Const,

    /// <summary><c>f64.const</c> (value holds the bits).</summary>
    F64Const,

    /// <summary><c>ref.null t</c>.</summary>
    RefNull,

    /// <summary><c>ref.func x</c>.</summary>
    RefFunc,

    /// <summary><c>global.get x</c>.</summary>
    GlobalGet,

    /// <summary>
    /// Anything else (several instructions, a non-constant operator, ...). Only possible before validation:
    /// the validator rejects such expressions, so a validated module never contains one.
    /// </summary>
    Other,
}

/// <summary>
/// A constant expression (global initializer, segment offset or element item). In WebAssembly 2.0 a valid constant
/// expression is exactly one constant instruction followed by <c>end</c>; the decoded instruction is held inline and
/// the raw bytes (including the final <c>end</c>) are kept for validation.
/// </summary>
internal readonly struct ConstExpr
{
    public ConstExpr(ConstExprKind kind, ulong value, uint index, WasmValueType refType, ReadOnlyMemory<byte> code, int offset)
    {
        Kind = kind;
        Value = value;
        Index = index;
        RefType = refType;
        Code = code;
        Offset = offset;
    }

    /// <summary>The single instruction, or <see cref="ConstExprKind.Other"/>.</summary>
    public ConstExprKind Kind { get; }

    /// <summary>Integer value or float bits for the numeric kinds.</summary>
    public ulong Value { get; }

    /// <summary>Function index (<c>ref.func</c>) or global index (<c>global.get</c>).</summary>
    public uint Index { get; }

    /// <summary>Reference type of <c>ref.null</c>.</summary>
    public WasmValueType RefType { get; }

    /// <summary>Instruction bytes including the terminating <c>end</c>; empty for element items given as function indices.</summary>
    public ReadOnlyMemory<byte> Code { get; }

    /// <summary>Offset of <see cref="Code"/> in the module binary.</summary>
    public int Offset { get; }

    /// <summary>A <c>ref.func</c> item from an element segment written as a plain function index.</summary>
    public static ConstExpr FunctionReference(uint functionIndex) =>
        new(ConstExprKind.RefFunc, 0, functionIndex, WasmValueType.FuncRef, ReadOnlyMemory<byte>.Empty, -1);
}

/// <summary>A global defined by the module.</summary>
internal readonly record struct WasmGlobal(GlobalType Type, ConstExpr Init);

/// <summary>How a segment is applied.</summary>
internal enum SegmentMode : byte
{
    /// <summary>Copied into a table/memory at instantiation, then dropped.</summary>
    Active,

    /// <summary>Used by <c>table.init</c>/<c>memory.init</c>.</summary>
    Passive,

    /// <summary>Only declares function references (element segments only); dropped at instantiation.</summary>
    Declarative,
}

/// <summary>An element segment.</summary>
internal sealed class WasmElementSegment
{
    /// <summary>Active, passive or declarative.</summary>
    public required SegmentMode Mode { get; init; }

    /// <summary>Target table, for active segments.</summary>
    public uint TableIndex { get; init; }

    /// <summary>Offset expression, for active segments.</summary>
    public ConstExpr Offset { get; init; }

    /// <summary>Reference type of the items.</summary>
    public required WasmValueType ElementType { get; init; }

    /// <summary>The items; plain function indices appear as <see cref="ConstExprKind.RefFunc"/>.</summary>
    public required ConstExpr[] Items { get; init; }
}

/// <summary>A data segment.</summary>
internal sealed class WasmDataSegment
{
    /// <summary>Active or passive.</summary>
    public required SegmentMode Mode { get; init; }

    /// <summary>Target memory, for active segments.</summary>
    public uint MemoryIndex { get; init; }

    /// <summary>Offset expression, for active segments.</summary>
    public ConstExpr Offset { get; init; }

    /// <summary>The bytes (a slice of the module binary).</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }
}

/// <summary>A function defined by the module (not imported).</summary>
internal sealed class WasmFunctionBody
{
    /// <summary>Index into <see cref="WasmModule.Types"/>.</summary>
    public required uint TypeIndex { get; init; }

    /// <summary>Declared locals, expanded one entry per local (parameters not included).</summary>
    public required WasmValueType[] Locals { get; init; }

    /// <summary>The instruction bytes after the local declarations, ending with the function's final <c>end</c>.</summary>
    public required ReadOnlyMemory<byte> Code { get; init; }

    /// <summary>Offset of <see cref="Code"/> in the module binary.</summary>
    public required int CodeOffset { get; init; }
}

/// <summary>
/// A decoded WebAssembly module. Function bodies, data segments and constant expressions are slices of the original
/// binary (no copies). Index spaces put imports first, then definitions, as the spec does.
/// </summary>
internal sealed class WasmModule
{
    /// <summary>The complete binary the module was decoded from.</summary>
    public required ReadOnlyMemory<byte> Binary { get; init; }

    /// <summary>Function types of the type section.</summary>
    public FuncType[] Types { get; set; } = [];

    /// <summary>Imports in order.</summary>
    public WasmImport[] Imports { get; set; } = [];

    /// <summary>Type index of each function in the function index space (imports first).</summary>
    public uint[] FunctionTypeIndices { get; set; } = [];

    /// <summary>Number of imported functions; defined function i has index <c>ImportedFunctionCount + i</c>.</summary>
    public int ImportedFunctionCount { get; set; }

    /// <summary>Bodies of the defined functions.</summary>
    public WasmFunctionBody[] Functions { get; set; } = [];

    /// <summary>Types of all tables in the table index space (imports first).</summary>
    public TableType[] Tables { get; set; } = [];

    /// <summary>Number of imported tables.</summary>
    public int ImportedTableCount { get; set; }

    /// <summary>Types of all memories in the memory index space (imports first).</summary>
    public MemoryType[] Memories { get; set; } = [];

    /// <summary>Number of imported memories.</summary>
    public int ImportedMemoryCount { get; set; }

    /// <summary>Types of all globals in the global index space (imports first).</summary>
    public GlobalType[] GlobalTypes { get; set; } = [];

    /// <summary>Number of imported globals.</summary>
    public int ImportedGlobalCount { get; set; }

    /// <summary>Defined globals with their initializers; defined global i has index <c>ImportedGlobalCount + i</c>.</summary>
    public WasmGlobal[] Globals { get; set; } = [];

    /// <summary>Exports in order.</summary>
    public WasmExport[] Exports { get; set; } = [];

    /// <summary>Start function index, if any.</summary>
    public uint? Start { get; set; }

    /// <summary>Element segments.</summary>
    public WasmElementSegment[] Elements { get; set; } = [];

    /// <summary>Data segments.</summary>
    public WasmDataSegment[] Datas { get; set; } = [];

    /// <summary>Value of the data count section, if present.</summary>
    public uint? DataCount { get; set; }

    /// <summary>The type of function <paramref name="functionIndex"/> (function index space).</summary>
    public FuncType FunctionType(int functionIndex) => Types[FunctionTypeIndices[functionIndex]];
}
