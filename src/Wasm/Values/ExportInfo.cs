namespace Xmbl.Cluster.Wasm;

/// <summary>One export of a compiled module.</summary>
/// <param name="Name">The export name.</param>
/// <param name="Kind">What is exported.</param>
/// <param name="FunctionType">The signature, for function exports.</param>
public sealed record ExportInfo(string Name, WasmExternKind Kind, FuncType? FunctionType = null);
