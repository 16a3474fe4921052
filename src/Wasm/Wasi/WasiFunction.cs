namespace Xmbl.Cluster.Wasm.Wasi;

/// <summary>One <c>wasi_snapshot_preview1</c> function: what another engine defines to call <see cref="WasiContext.Call"/>.</summary>
/// <param name="Index">The index to pass to <see cref="WasiContext.Call"/>.</param>
/// <param name="Name">The import name.</param>
/// <param name="Type">The signature.</param>
public sealed record WasiFunction(int Index, string Name, FuncType Type);
