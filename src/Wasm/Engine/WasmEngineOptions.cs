namespace Xmbl.Cluster.Wasm;

/// <summary>Engine-wide settings; fixed once the engine is created.</summary>
public sealed class WasmEngineOptions
{
    /// <summary>Default number of compiled modules kept in the engine's cache.</summary>
    public const int DefaultCompiledModuleCacheSize = 64;

    /// <summary>Whether compiled code counts fuel (per basic block). Off: no fuel accounting, slightly faster code.</summary>
    public bool FuelMetering { get; set; } = true;

    /// <summary>How many compiled modules the engine caches by SHA-256 (0 disables the cache).</summary>
    public int CompiledModuleCacheSize { get; set; } = DefaultCompiledModuleCacheSize;

    /// <summary>Whether float results that are NaN are replaced by the canonical NaN so results are identical on every machine.</summary>
    /// <remarks>On by default; turning it off is faster for float-heavy code but NaN payloads then follow the CPU.</remarks>
    public bool CanonicalizeNaNs { get; set; } = true;
}
