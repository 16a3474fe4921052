namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>
/// A WebAssembly engine behind the seam: compiles (validates, lists imports and exports, caches) and runs modules
/// with limits, a WASI context and host functions, and reports fuel and how the run ended. Thread-safe; one per
/// process or silo.
/// </summary>
/// <remarks>Implementations: <c>managed</c> (<c>src/Wasm</c>, <see cref="Managed.ManagedWasmEngine"/>) and
/// <c>wasmtime</c> (<c>src/Wasm.Wasmtime</c>). Both run the same WASI host, so clocks, random bytes and host-call fuel
/// agree; the fuel of guest instructions follows each engine's own cost model.</remarks>
public interface IWasmEngine : IDisposable
{
    /// <summary>The engine's name as configured (<see cref="WasmEngineNames"/>).</summary>
    string Name { get; }

    /// <summary>The engine's version (for Wasmtime, the native library's), announced by nodes.</summary>
    string Version { get; }

    /// <summary>The optional features (<see cref="WasmFeatures"/>) this engine runs, announced by nodes.</summary>
    IReadOnlyList<string> Features { get; }

    /// <summary>Validates and compiles a module, or returns the cached compilation of the same bytes.</summary>
    /// <param name="wasm">The module binary.</param>
    /// <returns>The compiled module.</returns>
    /// <exception cref="WasmModuleRejectedException">The bytes are not a module this engine accepts.</exception>
    IWasmModule Compile(ReadOnlyMemory<byte> wasm);

    /// <summary>Instantiates <paramref name="module"/> in a fresh store with the request's limits and runs it.</summary>
    /// <param name="module">A module this engine compiled.</param>
    /// <param name="request">What to run and with what.</param>
    /// <returns>How the run ended; guest failures (traps, limits, link errors) are results, not exceptions.</returns>
    /// <remarks>A guest cannot crash the caller: its stack runs on a large-stack guest thread and every limit ends in a
    /// trap. Host functions may call <see cref="Run"/> again (nested runs).</remarks>
    WasmRunResult Run(IWasmModule module, WasmRunRequest request);
}
