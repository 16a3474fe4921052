namespace Xmbl.Cluster.Wasm;

/// <summary>What a host function sees of its caller; valid only during the host call.</summary>
public sealed class Caller
{
    internal Caller(Store store, Instance? instance)
    {
        Store = store;
        Instance = instance;
    }

    /// <summary>The store the call runs in (fuel, limits, host data).</summary>
    public Store Store { get; }

    /// <summary>The instance that imported the host function, if any.</summary>
    public Instance? Instance { get; }

    /// <summary>An exported memory of the calling instance.</summary>
    /// <param name="exportName">The export name.</param>
    /// <returns>The memory, or null when the instance exports no memory of that name.</returns>
    public Memory? GetMemory(string exportName = "memory") => Instance?.GetMemory(exportName);

    /// <summary>An exported function of the calling instance.</summary>
    /// <param name="exportName">The export name.</param>
    /// <returns>The function, or null.</returns>
    public Function? GetFunction(string exportName) => Instance?.GetFunction(exportName);
}
