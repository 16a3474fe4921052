using System.Globalization;

namespace Xmbl.Cluster.Storage.Objects;

/// <summary>Makes unique, sortable object names for job outputs: UTC time plus a per-process counter.</summary>
/// <remarks>
/// Names look like <c>out-20261122T054642123Z-000042.bin</c>: the time to the millisecond, then a counter that never
/// repeats within the process, so two outputs in the same millisecond still differ and names sort by creation.
/// Give each node its own <paramref name="instanceTag"/> (for example the node id) when several processes write to one namespace.
/// </remarks>
/// <param name="timeProvider">The clock; default the system clock.</param>
/// <param name="instanceTag">Added to each name to keep names from different processes apart; null for none.</param>
public sealed class UniqueObjectNames(TimeProvider? timeProvider = null, string? instanceTag = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private long _counter;

    /// <summary>The next unique name.</summary>
    /// <param name="prefix">Put in front (default <c>out</c>).</param>
    /// <param name="extension">Put at the end, with or without the dot; null for none.</param>
    public string Next(string prefix = "out", string? extension = null)
    {
        var n = Interlocked.Increment(ref _counter);
        var time = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var ext = string.IsNullOrEmpty(extension) ? "" : extension.StartsWith('.') ? extension : "." + extension;
        var tag = string.IsNullOrEmpty(instanceTag) ? "" : "-" + instanceTag;
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}-{time}{tag}-{n:D6}{ext}");
    }
}
