namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Hard limits the decoder and validator enforce so hostile input cannot exhaust memory or time. A module exceeding
/// one is rejected with <see cref="WasmMalformedException"/> (counts and sizes) or <see cref="WasmInvalidException"/>
/// (memory/table limits the spec itself defines). The values follow the limits common engines use
/// (the JS API "implementation limits"), so every real-world module fits.
/// </summary>
internal static class WasmModuleLimits
{
    /// <summary>Largest module binary accepted, in bytes (1 GiB).</summary>
    public const int MaxModuleBytes = 1 << 30;

    /// <summary>Types in the type section.</summary>
    public const int MaxTypes = 100_000;

    /// <summary>Parameters or results of one function type.</summary>
    public const int MaxFunctionParams = 1_000;

    /// <summary>Results of one function type.</summary>
    public const int MaxFunctionResults = 1_000;

    /// <summary>Imports.</summary>
    public const int MaxImports = 100_000;

    /// <summary>Exports.</summary>
    public const int MaxExports = 100_000;

    /// <summary>Functions (imported plus defined).</summary>
    public const int MaxFunctions = 100_000;

    /// <summary>Tables (imported plus defined).</summary>
    public const int MaxTables = 100_000;

    /// <summary>Memories (imported plus defined); WebAssembly 2.0 allows at most one, checked by the validator.</summary>
    public const int MaxMemories = 100;

    /// <summary>Globals (imported plus defined).</summary>
    public const int MaxGlobals = 100_000;

    /// <summary>Element segments.</summary>
    public const int MaxElementSegments = 100_000;

    /// <summary>Items of all element segments together (each item costs about 40 bytes decoded).</summary>
    public const int MaxElementItems = 2_000_000;

    /// <summary>Data segments.</summary>
    public const int MaxDataSegments = 100_000;

    /// <summary>Size of one function body in bytes.</summary>
    public const int MaxFunctionBodyBytes = 1_000_000;

    /// <summary>Declared locals of one function (parameters not counted).</summary>
    public const int MaxFunctionLocals = 50_000;

    /// <summary>Declared locals of all functions together: locals are stored expanded (one byte each), so this bounds
    /// the memory a few bytes of "50,000 locals" per body could otherwise claim.</summary>
    public const int MaxModuleLocals = 10_000_000;

    /// <summary>Bytes of one name (import/export/custom section name).</summary>
    public const int MaxNameBytes = 100_000;

    /// <summary>Nesting depth of blocks in one function body.</summary>
    public const int MaxControlDepth = 10_000;

    /// <summary>Targets of one <c>br_table</c>.</summary>
    public const int MaxBrTableTargets = 1_000_000;

    /// <summary>Largest memory size in 64 KiB pages (spec limit for 32-bit memories: 4 GiB).</summary>
    public const uint MaxMemoryPages = 65_536;
}
