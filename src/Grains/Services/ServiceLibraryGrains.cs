using Xmbl.Cluster.Grains.Interfaces.Services;

namespace Xmbl.Cluster.Grains.Services;

/// <summary>State of a <see cref="ServicePackageGrain"/>.</summary>
internal sealed class ServicePackageGrainState
{
    public ServiceEntry? Entry { get; set; }
}

/// <summary>One published version; the first publish wins and a version never changes.</summary>
internal sealed class ServicePackageGrain([PersistentState(GrainStates.ServicePackage, GrainStates.Storage)] IPersistentState<ServicePackageGrainState> state)
    : DurableGrain<ServicePackageGrainState>(state), IServicePackageGrain
{
    public Task<(PublishOutcome Outcome, ServiceEntry Entry)> PublishAsync(ServiceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!string.Equals(entry.Key, this.GetPrimaryKeyString(), StringComparison.Ordinal))
        {
            throw new ArgumentException($"Entry {entry.Key} published under key {this.GetPrimaryKeyString()}.", nameof(entry));
        }

        if (State.Entry is { } existing)
        {
            return Task.FromResult((string.Equals(existing.Sha256, entry.Sha256, StringComparison.Ordinal) ? PublishOutcome.AlreadyPublished : PublishOutcome.Conflict, existing));
        }

        State.Entry = entry;
        return Task.FromResult((PublishOutcome.Created, entry));
    }

    public Task<ServiceEntry?> GetAsync() => Task.FromResult(State.Entry);
}

/// <summary>State of a <see cref="ServiceCatalogGrain"/>.</summary>
internal sealed class ServiceCatalogGrainState
{
    public List<ServiceEntry> Entries { get; set; } = [];
}

/// <summary>The catalog of every published version, newest first.</summary>
internal sealed class ServiceCatalogGrain([PersistentState(GrainStates.ServiceCatalog, GrainStates.Storage)] IPersistentState<ServiceCatalogGrainState> state)
    : DurableGrain<ServiceCatalogGrainState>(state), IServiceCatalogGrain
{
    public Task AddAsync(ServiceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!State.Entries.Exists(e => e.Key == entry.Key))
        {
            State.Entries.Insert(0, entry);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ServiceEntry>> ListAsync() => Task.FromResult<IReadOnlyList<ServiceEntry>>([.. State.Entries]);
}

/// <summary>State of a <see cref="PublisherGrain"/>.</summary>
internal sealed class PublisherGrainState
{
    public List<string> Packages { get; set; } = [];

    public List<string> Endorsers { get; set; } = [];

    public List<string> Endorses { get; set; } = [];
}

/// <summary>A publisher's packages and endorsements.</summary>
internal sealed class PublisherGrain([PersistentState(GrainStates.Publisher, GrainStates.Storage)] IPersistentState<PublisherGrainState> state)
    : DurableGrain<PublisherGrainState>(state), IPublisherGrain
{
    public Task AddPackageAsync(string key) => Add(State.Packages, key);

    public Task AddEndorserAsync(string endorser) => Add(State.Endorsers, endorser);

    public Task AddEndorsedAsync(string publisher) => Add(State.Endorses, publisher);

    public Task<PublisherRecord> GetAsync() =>
        Task.FromResult(new PublisherRecord(this.GetPrimaryKeyString(), [.. State.Packages], [.. State.Endorsers], [.. State.Endorses]));

    private static Task Add(List<string> list, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        if (!list.Contains(value))
        {
            list.Add(value);
        }

        return Task.CompletedTask;
    }
}
