namespace Xmbl.Cluster.Wasm.Engines.Managed;

/// <summary>A module compiled by <see cref="ManagedWasmEngine"/>.</summary>
/// <param name="engine">The engine.</param>
/// <param name="compiled">The compiled module.</param>
public sealed class ManagedWasmModule(ManagedWasmEngine engine, CompiledModule compiled) : IWasmModule
{
    /// <inheritdoc/>
    public IWasmEngine Engine => engine;

    /// <summary>The compiled module of <c>src/Wasm</c>.</summary>
    public CompiledModule Compiled => compiled;

    /// <inheritdoc/>
    public string Sha256 => compiled.Sha256;

    /// <inheritdoc/>
    public IReadOnlyList<ImportInfo> Imports => compiled.Imports;

    /// <inheritdoc/>
    public IReadOnlyList<ExportInfo> Exports => compiled.Exports;
}
