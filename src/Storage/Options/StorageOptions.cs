namespace Xmbl.Cluster.Storage.Options;

/// <summary>Storage settings of a node, bound from the <c>Xmbl:Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Xmbl:Storage";

    /// <summary>The default number of data shards per stripe (k).</summary>
    public const int DefaultDataShards = 3;

    /// <summary>The default number of parity shards per stripe (m): any m shards of a stripe may be lost.</summary>
    public const int DefaultParityShards = 2;

    /// <summary>The default shard size: 1 MiB. A stripe holds <c>k × shard size</c> bytes of the object.</summary>
    public const int DefaultShardSize = 1024 * 1024;

    /// <summary>The smallest allowed shard size (4 KiB).</summary>
    public const int MinShardSize = 4 * 1024;

    /// <summary>The largest allowed shard size (64 MiB).</summary>
    public const int MaxShardSize = 64 * 1024 * 1024;

    /// <summary>The default maximum object size: 64 GiB.</summary>
    public const long DefaultMaxObjectSize = 64L * 1024 * 1024 * 1024;

    /// <summary>
    /// The default number of stripes a writer or reader keeps in memory at once (one being read and coded, the others
    /// being written or sent): 8, 40 MiB at the default coding. Each shard write ends in a sync that takes milliseconds,
    /// so throughput grows with the writes in flight: a 1 GiB put took 4.0-4.5 s with 3, 3.7 s with 6, 3.5 s with 10.
    /// </summary>
    public const int DefaultStripesInFlight = 8;

    /// <summary>The default time one shard read may take before the reader gives up on it and reads another shard: 30 seconds.</summary>
    public static readonly TimeSpan DefaultShardTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The largest k + m the codec supports over GF(2^8).</summary>
    public const int MaxTotalShards = 256;

    /// <summary>The default id under which this node's own store is served: <c>local</c>.</summary>
    public const string DefaultNodeId = "local";

    /// <summary>The node id this process's own shard store is served under (cluster mode: the node's identity). Default <see cref="DefaultNodeId"/>.</summary>
    public string NodeId { get; set; } = DefaultNodeId;

    /// <summary>Data shards per stripe (k). Default <see cref="DefaultDataShards"/>.</summary>
    public int DataShards { get; set; } = DefaultDataShards;

    /// <summary>Parity shards per stripe (m). Default <see cref="DefaultParityShards"/>.</summary>
    public int ParityShards { get; set; } = DefaultParityShards;

    /// <summary>Shard size in bytes. Default <see cref="DefaultShardSize"/>.</summary>
    public int ShardSize { get; set; } = DefaultShardSize;

    /// <summary>The largest object accepted, in bytes. Default <see cref="DefaultMaxObjectSize"/>.</summary>
    public long MaxObjectSize { get; set; } = DefaultMaxObjectSize;

    /// <summary>How many stripes a writer or reader buffers at once; memory per stream is about this × (k + m) × shard size.</summary>
    public int StripesInFlight { get; set; } = DefaultStripesInFlight;

    /// <summary>How long one shard read or write may take before it counts as failed: the reader reads another shard, the writer stores the shard on another node (so a hung node slows a stream down but does not stop it). Default <see cref="DefaultShardTimeout"/>.</summary>
    public TimeSpan ShardTimeout { get; set; } = DefaultShardTimeout;

    /// <summary>The volumes of this node's shard store (directories, ideally one per disk).</summary>
    public IList<StorageVolumeOptions> Volumes { get; } = [];

    /// <summary>The path of the node's SQLite shard index. Default: <c>shard-index.db</c> in the first volume.</summary>
    public string? IndexPath { get; set; }
}

/// <summary>One volume of a shard store.</summary>
public sealed class StorageVolumeOptions
{
    /// <summary>The volume's name, unique within the node (recorded in the shard index).</summary>
    public string Name { get; set; } = "";

    /// <summary>The directory that holds the volume's shard files; created when missing.</summary>
    public string Path { get; set; } = "";

    /// <summary>The most bytes of shards the volume may hold; 0 (the default) means whatever the file system has free.</summary>
    public long CapacityBytes { get; set; }

    /// <summary>
    /// Whether shard files are written with direct I/O (<c>O_DIRECT</c>), bypassing the page cache. Default true; the
    /// volume falls back to cached writes by itself where the platform or file system has no direct I/O.
    /// </summary>
    public bool DirectIo { get; set; } = true;
}
