namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>
/// WebAssembly features beyond 2.0 that not every engine runs. A module records the ones it uses at upload, a node
/// announces the ones its engine runs, and the scheduler places a job only on nodes whose engine runs all of its
/// module's: so a SIMD module goes to Wasmtime nodes in a cluster that also has managed-engine nodes.
/// </summary>
public static class WasmFeatures
{
    /// <summary>Fixed-width SIMD (<c>v128</c>, the <c>0xFD</c> operators): Wasmtime runs it, the managed engine does not.</summary>
    public const string Simd = "simd";

    /// <summary>
    /// The optional features <paramref name="wasm"/> uses. The managed engine implements WebAssembly 2.0 without them,
    /// so what it cannot run is exactly what the module needs beyond the baseline every engine has.
    /// </summary>
    /// <param name="wasm">A module binary (normally one an engine already accepted).</param>
    /// <returns>The features, each once; empty for a plain WebAssembly 2.0 module.</returns>
    public static IReadOnlyList<string> UsedBy(ReadOnlyMemory<byte> wasm) => WasmEngine.UnsupportedFeatures(wasm);

    /// <summary>The first of <paramref name="required"/> missing from <paramref name="supported"/>, or null when all are there.</summary>
    /// <param name="required">A module's features (null: none).</param>
    /// <param name="supported">An engine's features (null: none, as announced by nodes from before features were announced).</param>
    /// <returns>The missing feature, or null.</returns>
    public static string? FirstMissing(IReadOnlyList<string>? required, IReadOnlyList<string>? supported)
    {
        if (required is null)
        {
            return null;
        }

        foreach (var feature in required)
        {
            if (supported is null || !supported.Contains(feature, StringComparer.Ordinal))
            {
                return feature;
            }
        }

        return null;
    }
}
