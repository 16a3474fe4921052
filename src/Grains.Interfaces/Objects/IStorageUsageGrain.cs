namespace Xmbl.Cluster.Grains.Interfaces.Objects;

/// <summary>Bytes and objects stored by one account (<c>account:{id}</c>) or in one namespace (<c>namespace:{ns}</c>), for quotas.</summary>
[Alias("xmbl.IStorageUsageGrain")]
public interface IStorageUsageGrain : IGrainWithStringKey
{
    /// <summary>The usage now.</summary>
    [ReadOnly]
    Task<StorageUsage> GetAsync();

    /// <summary>Adds <paramref name="bytes"/> unless that would pass <paramref name="limit"/> (null: no limit); false when refused.</summary>
    Task<bool> TryChargeAsync(long bytes, int objects, long? limit);

    /// <summary>Gives back bytes and objects (a delete, a replaced version, a failed write).</summary>
    Task RefundAsync(long bytes, int objects);
}

/// <summary>What an account or namespace holds.</summary>
/// <param name="Bytes">Logical bytes (object sizes, not shard bytes).</param>
/// <param name="Objects">Number of objects.</param>
[GenerateSerializer, Immutable, Alias("xmbl.StorageUsage")]
public sealed record StorageUsage(long Bytes, int Objects);
