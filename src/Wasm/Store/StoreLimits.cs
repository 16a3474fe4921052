namespace Xmbl.Cluster.Wasm;

/// <summary>Resource limits of a <see cref="Store"/>; build one with <see cref="StoreLimitsBuilder"/>.</summary>
public sealed class StoreLimits
{
    /// <summary>Default memory cap: 16384 pages = 1 GiB.</summary>
    public const int DefaultMaxMemoryPages = 16_384;

    /// <summary>Default cap on the number of elements of one table.</summary>
    public const int DefaultMaxTableElements = 100_000;

    /// <summary>Default call-depth budget, in units of <see cref="StackUnitBytes"/> of native stack.</summary>
    public const int DefaultMaxCallDepth = 10_000;

    /// <summary>The largest call-depth budget that may be configured (the guest thread's stack is sized for it).</summary>
    public const int MaxSupportedCallDepth = 100_000;

    /// <summary>
    /// Native stack per call-depth unit. A call charges one unit per started 4 KiB of its function's estimated frame
    /// (at least one; an ordinary function charges exactly one), so <see cref="MaxCallDepth"/> is both the deepest
    /// nesting of ordinary calls and a bound on the stack guest code can use.
    /// </summary>
    public const int StackUnitBytes = 4096;

    /// <summary>Limits with every default and no fuel limit.</summary>
    public static StoreLimits Default { get; } = new StoreLimitsBuilder().Build();

    internal StoreLimits(long? fuel, int maxMemoryPages, int maxTableElements, int maxCallDepth, TimeSpan? wallClock, CancellationToken cancellation)
    {
        Fuel = fuel;
        MaxMemoryPages = maxMemoryPages;
        MaxTableElements = maxTableElements;
        MaxCallDepth = maxCallDepth;
        WallClock = wallClock;
        Cancellation = cancellation;
    }

    /// <summary>Initial fuel; null means unlimited (fuel is still counted when metering is on).</summary>
    public long? Fuel { get; }

    /// <summary>Largest linear memory, in 64 KiB pages; <c>memory.grow</c> beyond it returns -1.</summary>
    public int MaxMemoryPages { get; }

    /// <summary>Largest table, in elements; <c>table.grow</c> beyond it returns -1.</summary>
    public int MaxTableElements { get; }

    /// <summary>
    /// Call-depth budget: the deepest allowed nesting of ordinary wasm calls, each charging one unit of
    /// <see cref="StackUnitBytes"/> (functions with larger frames charge more); exceeding it traps with
    /// <see cref="TrapKind.CallStackExhausted"/>.
    /// </summary>
    public int MaxCallDepth { get; }

    /// <summary>Wall-clock budget of each top-level call into the store; exceeding it traps with <see cref="TrapKind.Timeout"/>.</summary>
    public TimeSpan? WallClock { get; }

    /// <summary>Cancels running guest code (traps with <see cref="TrapKind.Timeout"/>).</summary>
    public CancellationToken Cancellation { get; }
}
