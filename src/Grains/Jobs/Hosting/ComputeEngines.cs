using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Engines.Managed;
using Xmbl.Cluster.Wasm.Wasmtime;

namespace Xmbl.Cluster.Grains.Jobs.Hosting;

/// <summary>Creates the silo's engine from <c>Xmbl:Compute:Engine</c> (validated at start-up).</summary>
internal static class ComputeEngines
{
    /// <summary>The engine named <paramref name="name"/>.</summary>
    /// <param name="name">A name from <see cref="WasmEngineNames"/>.</param>
    /// <param name="dataDirectory">The silo's data directory (engines that cache compiled code on disk use a folder in it).</param>
    /// <returns>The engine; the container disposes it with the silo.</returns>
    public static IWasmEngine Create(string name, string dataDirectory)
    {
        return name.ToLowerInvariant() switch
        {
            WasmEngineNames.Managed => new ManagedWasmEngine(),
            WasmEngineNames.Wasmtime => new WasmtimeEngine(new WasmtimeEngineOptions { CacheDirectory = Path.Combine(dataDirectory, "compiled") }),
            _ => throw new ArgumentException($"Unknown engine '{name}'; use one of {string.Join(", ", WasmEngineNames.All)}.", nameof(name)),
        };
    }
}
