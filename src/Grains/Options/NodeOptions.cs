namespace Xmbl.Cluster.Grains.Options;

/// <summary>What the nodes of this silo announce, bound from <c>Xmbl:Node</c>.</summary>
/// <remarks>
/// On the command line: <c>--nodes 5 --cpu 4 --memory 8GB --storage 10GB --gpu true --price 0.01 --storage-price 0.002</c>.
/// In embedded mode the silo hosts <see cref="Count"/> logical nodes, each with its own identity, and each announces
/// its share of the silo's cores, memory and storage.
/// </remarks>
public sealed class NodeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Node";

    /// <summary>Logical nodes in embedded mode.</summary>
    public const int DefaultEmbeddedCount = 5;

    /// <summary>Nodes per silo in cluster mode.</summary>
    public const int DefaultClusterCount = 1;

    /// <summary>Default price per million fuel units, in xmbl.c.</summary>
    public const decimal DefaultPricePerMillionFuel = 0.01m;

    /// <summary>Default price per GB-month stored, in xmbl.c.</summary>
    public const decimal DefaultPricePerGbMonth = 0.002m;

    /// <summary>Default interval between node heartbeats.</summary>
    public static readonly TimeSpan DefaultHeartbeatPeriod = TimeSpan.FromSeconds(2);

    /// <summary>Default age of the last heartbeat after which a node counts as dead.</summary>
    public static readonly TimeSpan DefaultDeathTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How many nodes this silo hosts; null picks the mode's default.</summary>
    public int? Count { get; set; }

    /// <summary>Cores the silo offers (split among its nodes); null means the machine's processor count.</summary>
    public int? Cores { get; set; }

    /// <summary>Memory the silo offers, e.g. <c>8GB</c>; null means half the memory the runtime may use.</summary>
    public string? Memory { get; set; }

    /// <summary>Storage the silo offers, e.g. <c>10GB</c>; null means half the free space of the data directory's disk.</summary>
    public string? Storage { get; set; }

    /// <summary>Whether the silo offers a GPU.</summary>
    public bool Gpu { get; set; }

    /// <summary>Price per million fuel units.</summary>
    public decimal PricePerMillionFuel { get; set; } = DefaultPricePerMillionFuel;

    /// <summary>Price per GB-month stored.</summary>
    public decimal PricePerGbMonth { get; set; } = DefaultPricePerGbMonth;

    /// <summary>Who runs these nodes; defaults to the machine name.</summary>
    public string? Operator { get; set; }

    /// <summary>Jobs each node runs at once; null means its cores.</summary>
    public int? Concurrency { get; set; }

    /// <summary>Interval between heartbeats.</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = DefaultHeartbeatPeriod;

    /// <summary>Age of the last heartbeat after which a node counts as dead.</summary>
    public TimeSpan DeathTimeout { get; set; } = DefaultDeathTimeout;
}
