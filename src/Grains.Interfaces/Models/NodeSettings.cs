namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>
/// What a node's operator changed on the running node (<c>PATCH /api/nodes/{id}</c>, <c>xmbl node set</c>); each value
/// left null keeps what the silo's options announce. Kept by the node's registry entry, so a restart keeps them too.
/// </summary>
/// <param name="Cores">CPU cores offered for jobs.</param>
/// <param name="MemoryBytes">Memory offered for jobs, in bytes.</param>
/// <param name="Concurrency">Jobs run at once; when null and <paramref name="Cores"/> is set, it follows the cores (as the option's default does).</param>
/// <param name="PricePerMillionFuel">Price per million fuel units, in xmbl.c.</param>
/// <param name="PricePerGbMonth">Price per GB-month stored, in xmbl.c.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeSettings")]
public sealed record NodeSettings(int? Cores, long? MemoryBytes, int? Concurrency, decimal? PricePerMillionFuel, decimal? PricePerGbMonth)
{
    /// <summary>These settings with <paramref name="newer"/>'s values where it has any.</summary>
    public NodeSettings With(NodeSettings newer)
    {
        ArgumentNullException.ThrowIfNull(newer);
        return new NodeSettings(
            newer.Cores ?? Cores,
            newer.MemoryBytes ?? MemoryBytes,
            // New cores without a concurrency: the concurrency follows them again.
            newer.Concurrency ?? (newer.Cores is null ? Concurrency : null),
            newer.PricePerMillionFuel ?? PricePerMillionFuel,
            newer.PricePerGbMonth ?? PricePerGbMonth);
    }

    /// <summary>The announced resources with these settings applied.</summary>
    public NodeResources Apply(NodeResources announced)
    {
        ArgumentNullException.ThrowIfNull(announced);
        return announced with
        {
            Cores = Cores ?? announced.Cores,
            MemoryBytes = MemoryBytes ?? announced.MemoryBytes,
            Concurrency = Concurrency ?? Cores ?? announced.Concurrency,
        };
    }

    /// <summary>The announced prices with these settings applied.</summary>
    public NodePrices Apply(NodePrices announced)
    {
        ArgumentNullException.ThrowIfNull(announced);
        return new NodePrices(PricePerMillionFuel ?? announced.PerMillionFuel, PricePerGbMonth ?? announced.PerGbMonth);
    }
}
