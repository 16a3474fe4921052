namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>A module compiled by one <see cref="IWasmEngine"/>: immutable, shareable, instantiated once per run.</summary>
public interface IWasmModule
{
    /// <summary>The engine that compiled it (a module runs only on its own engine).</summary>
    IWasmEngine Engine { get; }

    /// <summary>The lower-case hex SHA-256 of the module's bytes.</summary>
    string Sha256 { get; }

    /// <summary>The module's imports, in declaration order.</summary>
    IReadOnlyList<ImportInfo> Imports { get; }

    /// <summary>The module's exports, in declaration order (functions carry their signature).</summary>
    IReadOnlyList<ExportInfo> Exports { get; }
}
