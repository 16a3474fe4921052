namespace Xmbl.Cluster.Storage.Shards;

/// <summary>The state of one shard after re-hashing its file.</summary>
public enum ShardHealthStatus
{
    /// <summary>The file exists and its content matches the indexed length and SHA-256.</summary>
    Healthy = 0,

    /// <summary>The file exists but its content differs from the index.</summary>
    Corrupt = 1,

    /// <summary>The index or the file has no such shard.</summary>
    Missing = 2,
}

/// <summary>The result of scrubbing one shard.</summary>
/// <param name="Id">The shard.</param>
/// <param name="Status">Healthy, corrupt or missing.</param>
/// <param name="ExpectedSha256">The indexed hash (null when the shard is not indexed).</param>
/// <param name="ActualSha256">The hash of the file as read now (null when there is no file).</param>
public sealed record ShardScrubResult(ShardId Id, ShardHealthStatus Status, string? ExpectedSha256, string? ActualSha256);

/// <summary>The result of scrubbing a whole store.</summary>
/// <param name="Checked">How many indexed shards were re-hashed.</param>
/// <param name="BytesChecked">How many bytes were read.</param>
/// <param name="Unhealthy">The shards that are corrupt or whose file is missing.</param>
/// <param name="OrphanFiles">Shard files in the volumes that the index does not know (left by a crash between rename and index insert).</param>
public sealed record ShardScrubReport(int Checked, long BytesChecked, IReadOnlyList<ShardScrubResult> Unhealthy, IReadOnlyList<string> OrphanFiles);

/// <summary>Space used and free on one volume of a store.</summary>
/// <param name="Name">The volume name.</param>
/// <param name="Path">The volume's directory.</param>
/// <param name="ShardCount">How many shards it holds.</param>
/// <param name="UsedBytes">The bytes its shards take.</param>
/// <param name="FreeBytes">The bytes still available to shards (the configured capacity less used bytes, capped by the file system's free space).</param>
/// <param name="DirectIo">Whether shard files are written with direct I/O: as configured, unless the platform or file system has none.</param>
public sealed record ShardVolumeStats(string Name, string Path, long ShardCount, long UsedBytes, long FreeBytes, bool DirectIo = false);

/// <summary>Space used and free on every volume of a store.</summary>
/// <param name="Volumes">One entry per volume.</param>
public sealed record ShardStoreStats(IReadOnlyList<ShardVolumeStats> Volumes)
{
    /// <summary>The bytes used on all volumes.</summary>
    public long UsedBytes => Volumes.Sum(v => v.UsedBytes);

    /// <summary>The bytes free on all volumes.</summary>
    public long FreeBytes => Volumes.Sum(v => v.FreeBytes);

    /// <summary>The shards on all volumes.</summary>
    public long ShardCount => Volumes.Sum(v => v.ShardCount);
}
