using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Engines.Managed;

namespace Xmbl.Cluster.Cli.Internal;

/// <summary>Creates the engine <c>xmbl run --engine</c> names.</summary>
internal static class CliEngines
{
    /// <summary>The engine named <paramref name="name"/> (checked with <see cref="WasmEngineNames.IsKnown"/>).</summary>
    public static IWasmEngine Create(string name) => name.ToLowerInvariant() switch
    {
        _ => new ManagedWasmEngine(),
    };
}
