using Xmbl.Cluster.Wasm.Wasi;

namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>One run: the entry point, the WASI context, the limits and extra host functions.</summary>
public sealed class WasmRunRequest
{
    /// <summary>The export to call after <c>_initialize</c> (a reactor); null runs the module as a WASI command (<c>_start</c>).</summary>
    public string? Export { get; init; }

    /// <summary>The arguments for <see cref="Export"/>, typed as its signature says.</summary>
    public IReadOnlyList<WasmValue> Arguments { get; init; } = [];

    /// <summary>What the guest sees through <c>wasi_snapshot_preview1</c> (one configuration per run).</summary>
    public required WasiConfiguration Wasi { get; init; }

    /// <summary>Fuel, memory and table sizes, wall clock and cancellation. <see cref="StoreLimits.MaxCallDepth"/> applies
    /// to the managed engine only; Wasmtime bounds the stack with its own maximum stack size.</summary>
    public StoreLimits Limits { get; init; } = StoreLimits.Default;

    /// <summary>Host functions defined for the guest besides WASI.</summary>
    public IReadOnlyList<WasmHostFunction> HostFunctions { get; init; } = [];
}
