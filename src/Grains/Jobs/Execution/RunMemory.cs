using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>The memory a run is counted for, by the scheduler when it places it and by the node when it admits it.</summary>
internal static class RunMemory
{
    /// <summary>Bytes of one WebAssembly page.</summary>
    public const long PageBytes = 64 * 1024;

    /// <summary>The run's linear memory cap (nested runs share it) plus the per-run overhead.</summary>
    public static long Of(JobLimits limits, long overheadBytes)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return (Math.Max(0, limits.MemoryPages) * PageBytes) + overheadBytes;
    }
}
