namespace Xmbl.Cluster.Wasm.Wasmtime;

/// <summary>Settings of <see cref="WasmtimeEngine"/>.</summary>
public sealed class WasmtimeEngineOptions
{
    /// <summary>Default of <see cref="EpochTick"/>: 10 ms.</summary>
    public static readonly TimeSpan DefaultEpochTick = TimeSpan.FromMilliseconds(10);

    /// <summary>Default of <see cref="MaxWasmStackBytes"/>: 2 MiB, the most Wasmtime accepts (its async stack size).</summary>
    public const int DefaultMaxWasmStackBytes = 2 << 20;

    /// <summary>Default of <see cref="CompiledModuleCacheSize"/>.</summary>
    public const int DefaultCompiledModuleCacheSize = 64;

    /// <summary>Where compiled modules are serialized (one file per module hash and engine configuration), so a restart
    /// does not compile them again; null keeps them in memory only.</summary>
    /// <remarks>The files are native code loaded without checks: the folder must be writable by this process only.</remarks>
    public string? CacheDirectory { get; set; }

    /// <summary>How often the engine's timer thread advances the epoch; wall-clock limits and cancellation are checked
    /// at this granularity.</summary>
    public TimeSpan EpochTick { get; set; } = DefaultEpochTick;

    /// <summary>The most native stack guest code may use per run; deeper recursion traps (<see cref="TrapKind.CallStackExhausted"/>).</summary>
    public int MaxWasmStackBytes { get; set; } = DefaultMaxWasmStackBytes;

    /// <summary>Compiled modules kept in memory (least recently compiled first out).</summary>
    public int CompiledModuleCacheSize { get; set; } = DefaultCompiledModuleCacheSize;

    /// <summary>Whether fuel is metered (on for jobs; off only to measure its cost).</summary>
    public bool FuelMetering { get; set; } = true;
}
