namespace Xmbl.Cluster.Wasm.Wasi;

/// <summary>Where the guest's clocks come from.</summary>
public enum WasiClockMode
{
    /// <summary>The host's clocks (wall time and a monotonic stopwatch); sleeping really waits.</summary>
    Host = 0,

    /// <summary>
    /// A virtual clock: it starts at <see cref="WasiConfiguration.VirtualEpoch"/>, advances by
    /// <see cref="WasiConfiguration.VirtualClockStep"/> on every clock read and jumps forward on sleep, so
    /// repeated runs observe identical times.
    /// </summary>
    Deterministic = 1,
}
