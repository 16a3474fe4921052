namespace Xmbl.Cluster.Wasm;

/// <summary>
/// A decoded, validated and translated module. Immutable and shareable: instantiate it any number of times, in any
/// number of stores; the generated code is shared by all instances.
/// </summary>
public sealed class CompiledModule
{
    internal CompiledModule(WasmEngine engine, string sha256, WasmModule module, ModuleCode code, bool fuelMetering)
    {
        Engine = engine;
        Sha256 = sha256;
        Module = module;
        Code = code;
        FuelMetering = fuelMetering;
        Imports = module.Imports.Select(ToInfo).ToArray();
        Exports = module.Exports.Select(e => new ExportInfo(
            e.Name,
            (WasmExternKind)e.Kind,
            e.Kind == ExternalKind.Function ? module.FunctionType((int)e.Index) : null)).ToArray();
        var maxValues = 1;
        foreach (var type in module.Types)
        {
            maxValues = Math.Max(maxValues, Math.Max(type.Parameters.Count, type.Results.Count));
        }

        MaxCallValues = maxValues;
    }

    /// <summary>The engine that compiled the module.</summary>
    public WasmEngine Engine { get; }

    /// <summary>Lower-case hex SHA-256 of the module binary (the cache key).</summary>
    public string Sha256 { get; }

    /// <summary>The module's imports, in order.</summary>
    public IReadOnlyList<ImportInfo> Imports { get; }

    /// <summary>The module's exports, in order.</summary>
    public IReadOnlyList<ExportInfo> Exports { get; }

    /// <summary>Whether the code counts fuel.</summary>
    public bool FuelMetering { get; }

    internal WasmModule Module { get; }

    internal ModuleCode Code { get; }

    /// <summary>The most parameters or results of any signature (sizes the store's staging buffers).</summary>
    internal int MaxCallValues { get; }

    private ImportInfo ToInfo(WasmImport import) => import.Kind switch
    {
        ExternalKind.Function => new ImportInfo(import.Module, import.Name, WasmExternKind.Function, FunctionType: Module.Types[import.FunctionTypeIndex]),
        ExternalKind.Table => new ImportInfo(
            import.Module, import.Name, WasmExternKind.Table, ValueType: import.Table.ElementType, Min: import.Table.Limits.Min, Max: import.Table.Limits.Max),
        ExternalKind.Memory => new ImportInfo(
            import.Module, import.Name, WasmExternKind.Memory, Min: import.Memory.Limits.Min, Max: import.Memory.Limits.Max),
        _ => new ImportInfo(import.Module, import.Name, WasmExternKind.Global, ValueType: import.Global.ValueType, Mutable: import.Global.Mutable),
    };
}
