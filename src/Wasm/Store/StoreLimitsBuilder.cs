namespace Xmbl.Cluster.Wasm;

/// <summary>Builds <see cref="StoreLimits"/>; every setting starts at its documented default.</summary>
public sealed class StoreLimitsBuilder
{
    private long? _fuel;
    private int _memoryPages = StoreLimits.DefaultMaxMemoryPages;
    private int _tableElements = StoreLimits.DefaultMaxTableElements;
    private int _callDepth = StoreLimits.DefaultMaxCallDepth;
    private TimeSpan? _wallClock;
    private CancellationToken _cancellation;

    /// <summary>Sets the initial fuel.</summary>
    /// <param name="units">Fuel units, at least zero.</param>
    /// <returns>This builder.</returns>
    public StoreLimitsBuilder Fuel(long units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        _fuel = units;
        return this;
    }

    /// <summary>Sets the memory cap in 64 KiB pages (at most 65536).</summary>
    /// <param name="pages">The cap.</param>
    /// <returns>This builder.</returns>
    public StoreLimitsBuilder MemoryPages(int pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages, Memory.MaxPages);
        _memoryPages = pages;
        return this;
    }

    /// <summary>Sets the cap on elements per table.</summary>
    /// <param name="elements">The cap.</param>
    /// <returns>This builder.</returns>
    public StoreLimitsBuilder TableElements(int elements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        _tableElements = elements;
        return this;
    }

    /// <summary>Sets the call-depth cap.</summary>
    /// <param name="depth">The cap, between 1 and <see cref="StoreLimits.MaxSupportedCallDepth"/>.</param>
    /// <returns>This builder.</returns>
    public StoreLimitsBuilder CallDepth(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, StoreLimits.MaxSupportedCallDepth);
        _callDepth = depth;
        return this;
    }

    /// <summary>Sets the wall-clock budget per top-level call.</summary>
    /// <param name="budget">A positive duration.</param>
    /// <returns>This builder.</returns>
    public StoreLimitsBuilder WallClock(TimeSpan budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(budget, TimeSpan.Zero);
        _wallClock = budget;
        return this;
    }

    /// <summary>Sets a token that cancels running guest code.</summary>
    /// <param name="token">The token.</param>
    /// <returns>This builder.</returns>
    public StoreLimitsBuilder Cancellation(CancellationToken token)
    {
        _cancellation = token;
        return this;
    }

    /// <summary>Creates the limits.</summary>
    /// <returns>The immutable limits.</returns>
    public StoreLimits Build() => new(_fuel, _memoryPages, _tableElements, _callDepth, _wallClock, _cancellation);
}
