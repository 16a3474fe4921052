namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>The engine names <c>Xmbl:Compute:Engine</c>, <c>--engine</c> and <c>xmbl run --engine</c> accept.</summary>
public static class WasmEngineNames
{
    /// <summary>Wasmtime (Cranelift), the default.</summary>
    public const string Wasmtime = "wasmtime";

    /// <summary>Our own engine in <c>src/Wasm</c> (WebAssembly to .NET IL).</summary>
    public const string Managed = "managed";

    /// <summary>The default engine.</summary>
    public const string Default = Wasmtime;

    /// <summary>Every accepted name.</summary>
    public static IReadOnlyList<string> All { get; } = [Wasmtime, Managed];

    /// <summary>Whether <paramref name="name"/> names an engine (case-insensitive).</summary>
    /// <param name="name">The configured name.</param>
    /// <returns>True when it does.</returns>
    public static bool IsKnown(string? name) => name is not null && All.Contains(name, StringComparer.OrdinalIgnoreCase);
}
