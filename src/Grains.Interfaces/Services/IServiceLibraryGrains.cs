namespace Xmbl.Cluster.Grains.Interfaces.Services;

/// <summary>One package version's library entry, keyed <c>packageId@version</c>; immutable once published.</summary>
[Alias("xmbl.IServicePackageGrain")]
public interface IServicePackageGrain : IGrainWithStringKey
{
    /// <summary>Records the entry unless another package holds this version.</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>What happened, and the entry now recorded.</returns>
    Task<(PublishOutcome Outcome, ServiceEntry Entry)> PublishAsync(ServiceEntry entry);

    /// <summary>The entry, or null when this version was never published.</summary>
    /// <returns>The entry.</returns>
    [ReadOnly]
    Task<ServiceEntry?> GetAsync();
}

/// <summary>The index of every published version (the <c>service_query</c>'s source), one grain (key 0).</summary>
[Alias("xmbl.IServiceCatalogGrain")]
public interface IServiceCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Adds an entry (idempotent by key).</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>A task.</returns>
    Task AddAsync(ServiceEntry entry);

    /// <summary>Every entry, newest first.</summary>
    /// <returns>The entries.</returns>
    [ReadOnly]
    Task<IReadOnlyList<ServiceEntry>> ListAsync();
}

/// <summary>A publisher (keyed by did:key): its packages and its endorsements, both ways.</summary>
[Alias("xmbl.IPublisherGrain")]
public interface IPublisherGrain : IGrainWithStringKey
{
    /// <summary>Notes a package this publisher published.</summary>
    /// <param name="key">The package's <c>packageId@version</c>.</param>
    /// <returns>A task.</returns>
    Task AddPackageAsync(string key);

    /// <summary>Records that <paramref name="endorser"/> endorses this publisher (idempotent).</summary>
    /// <param name="endorser">The endorser's did:key.</param>
    /// <returns>A task.</returns>
    Task AddEndorserAsync(string endorser);

    /// <summary>Records that this publisher endorses <paramref name="publisher"/> (idempotent).</summary>
    /// <param name="publisher">The endorsed did:key.</param>
    /// <returns>A task.</returns>
    Task AddEndorsedAsync(string publisher);

    /// <summary>The record.</summary>
    /// <returns>The record.</returns>
    [ReadOnly]
    Task<PublisherRecord> GetAsync();
}
