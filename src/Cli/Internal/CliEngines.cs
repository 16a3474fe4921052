using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Engines.Managed;
using Xmbl.Cluster.Wasm.Wasmtime;

namespace Xmbl.Cluster.Cli.Internal;

/// <summary>Creates the engine <c>xmbl run --engine</c> names.</summary>
internal static class CliEngines
{
    /// <summary>The engine named <paramref name="name"/> (checked with <see cref="WasmEngineNames.IsKnown"/>).</summary>
    public static IWasmEngine Create(string name) => name.ToLowerInvariant() switch
    {
        WasmEngineNames.Managed => new ManagedWasmEngine(),
        _ => new WasmtimeEngine(),
    };
}
