namespace Xmbl.Cluster.Grains.Interfaces.Ledger;

/// <summary>
/// Storage charging (one grain, key <see cref="Key"/>): at every interval it charges each object's owner for the shard
/// bytes each node holds, at that node's price per GB-month, prorated over the time since the last charge
/// (docs/ledger.md, "Storage charges").
/// </summary>
[Alias("xmbl.IStorageChargesGrain")]
public interface IStorageChargesGrain : IGrainWithStringKey
{
    /// <summary>The grain's key.</summary>
    public const string Key = "storage";

    /// <summary>
    /// Registers the charging reminder (idempotent; every silo asks at start), or with <paramref name="enabled"/> false
    /// removes it and forgets when the last charge ended, so that turning charging on again does not charge the time it was off.
    /// </summary>
    Task StartAsync(bool enabled);

    /// <summary>Charges the next period when the interval has passed since the last one, or finishes a period a crash interrupted (what the reminder does).</summary>
    /// <returns>The period charged, or null when none was due.</returns>
    Task<StoragePeriod?> ChargeIfDueAsync();

    /// <summary>Charges the next period now (or finishes an interrupted one).</summary>
    Task<StoragePeriod> ChargeAsync();

    /// <summary>The last period charged, or null before the first.</summary>
    [ReadOnly]
    Task<StoragePeriod?> LastAsync();
}

/// <summary>One charging period.</summary>
/// <param name="Number">1, 2, …</param>
/// <param name="From">Its start: the end of the previous period, or when charging was turned on.</param>
/// <param name="To">Its end: when its charges were computed.</param>
/// <param name="Owners">Accounts charged (owners with at least one line of at least 1 micro-xmbl.c).</param>
/// <param name="Amount">Micro-xmbl.c charged in all (paid now or owed).</param>
[GenerateSerializer, Immutable, Alias("xmbl.StoragePeriod")]
public sealed record StoragePeriod(long Number, DateTimeOffset From, DateTimeOffset To, int Owners, long Amount);
