using Wt = global::Wasmtime;

namespace Xmbl.Cluster.Wasm.Wasmtime;

/// <summary>A module compiled by <see cref="WasmtimeEngine"/>.</summary>
public sealed class WasmtimeModule : Engines.IWasmModule
{
    internal WasmtimeModule(WasmtimeEngine engine, string sha256, Wt.Module module)
    {
        Engine = engine;
        Sha256 = sha256;
        Module = module;
        Imports = [.. module.Imports.Select(ToImport)];
        Exports = [.. module.Exports.Select(ToExport)];
    }

    /// <inheritdoc/>
    public Engines.IWasmEngine Engine { get; }

    /// <inheritdoc/>
    public string Sha256 { get; }

    /// <inheritdoc/>
    public IReadOnlyList<ImportInfo> Imports { get; }

    /// <inheritdoc/>
    public IReadOnlyList<ExportInfo> Exports { get; }

    internal Wt.Module Module { get; }

    internal static WasmValueType ToValueType(Wt.ValueKind kind) => kind switch
    {
        Wt.ValueKind.Int32 => WasmValueType.I32,
        Wt.ValueKind.Int64 => WasmValueType.I64,
        Wt.ValueKind.Float32 => WasmValueType.F32,
        Wt.ValueKind.Float64 => WasmValueType.F64,
        Wt.ValueKind.V128 => WasmValueType.V128,
        Wt.ValueKind.FuncRef => WasmValueType.FuncRef,
        _ => WasmValueType.ExternRef,
    };

    internal static Wt.ValueKind ToValueKind(WasmValueType type) => type switch
    {
        WasmValueType.I32 => Wt.ValueKind.Int32,
        WasmValueType.I64 => Wt.ValueKind.Int64,
        WasmValueType.F32 => Wt.ValueKind.Float32,
        WasmValueType.F64 => Wt.ValueKind.Float64,
        WasmValueType.V128 => Wt.ValueKind.V128,
        WasmValueType.FuncRef => Wt.ValueKind.FuncRef,
        _ => Wt.ValueKind.ExternRef,
    };

    private static FuncType Signature(IReadOnlyList<Wt.ValueKind> parameters, IReadOnlyList<Wt.ValueKind> results) =>
        new([.. parameters.Select(ToValueType)], [.. results.Select(ToValueType)]);

    private static ImportInfo ToImport(Wt.Import import) => import switch
    {
        Wt.FunctionImport f => new ImportInfo(f.ModuleName, f.Name, WasmExternKind.Function, Signature(f.Parameters, f.Results)),
        Wt.MemoryImport m => new ImportInfo(m.ModuleName, m.Name, WasmExternKind.Memory, Min: m.Minimum, Max: m.Maximum),
        Wt.TableImport t => new ImportInfo(t.ModuleName, t.Name, WasmExternKind.Table, ValueType: ToValueType(t.Kind), Min: t.Minimum, Max: t.Maximum == uint.MaxValue ? null : t.Maximum),
        Wt.GlobalImport g => new ImportInfo(g.ModuleName, g.Name, WasmExternKind.Global, ValueType: ToValueType(g.Kind), Mutable: g.Mutability == Wt.Mutability.Mutable),
        _ => new ImportInfo(import.ModuleName, import.Name, WasmExternKind.Function),
    };

    private static ExportInfo ToExport(Wt.Export export) => export switch
    {
        Wt.FunctionExport f => new ExportInfo(f.Name, WasmExternKind.Function, Signature(f.Parameters, f.Results)),
        Wt.MemoryExport => new ExportInfo(export.Name, WasmExternKind.Memory),
        Wt.TableExport => new ExportInfo(export.Name, WasmExternKind.Table),
        _ => new ExportInfo(export.Name, WasmExternKind.Global),
    };
}
