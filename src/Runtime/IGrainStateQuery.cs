namespace Xmbl.Cluster.Runtime;

/// <summary>Read-only listing of stored grain state for APIs and dashboards; takes no grain locks.</summary>
public interface IGrainStateQuery
{
    /// <summary>Lists grains of one type that have state, ordered by key (ordinal), one page at a time.</summary>
    /// <typeparam name="TState">The state type the grain class persists.</typeparam>
    /// <param name="grainType">The grain interface's name, e.g. <c>INodeGrain</c>.</param>
    /// <param name="keyPrefix">Only keys starting with this prefix, or null for all.</param>
    /// <param name="afterKey">Only keys ordered after this one (the last key of the previous page), or null to start at the beginning.</param>
    /// <param name="limit">The page size, 1 to 10,000.</param>
    /// <param name="ct">Cancels the query.</param>
    /// <returns>Up to <paramref name="limit"/> entries.</returns>
    /// <exception cref="GrainStateException">A row's state cannot be read as <typeparamref name="TState"/>.</exception>
    Task<IReadOnlyList<GrainStateEntry<TState>>> ListAsync<TState>(string grainType, string? keyPrefix, string? afterKey, int limit, CancellationToken ct = default);

    /// <summary>Reads one grain's committed state by key (an index seek), or null when it has none.</summary>
    /// <typeparam name="TState">The state type the grain class persists.</typeparam>
    /// <param name="grainType">The grain interface's name, e.g. <c>IJobGrain</c>.</param>
    /// <param name="key">The grain's key.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>The entry, or null.</returns>
    /// <exception cref="GrainStateException">The row's state cannot be read as <typeparamref name="TState"/>.</exception>
    Task<GrainStateEntry<TState>?> GetAsync<TState>(string grainType, string key, CancellationToken ct = default);
}
