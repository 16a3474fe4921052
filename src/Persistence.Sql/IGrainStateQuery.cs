namespace Xmbl.Cluster.Persistence.Sql;

/// <summary>
/// Read-only access to stored grain state for listings and APIs, straight from the database: no grain is activated or
/// called, and no write waits for it. What it returns is committed state, possibly older than a grain's in-memory state.
/// </summary>
public interface IGrainStateQuery
{
    /// <summary>Lists the grains of one state name that hold state, ordered by key (ordinal), one page at a time.</summary>
    /// <typeparam name="TState">The state type the grain persists.</typeparam>
    /// <param name="stateName">The state name, as in <c>[PersistentState("job", "store")]</c>.</param>
    /// <param name="keyPrefix">Only keys starting with this text (compared exactly, no wildcards), or null for all.</param>
    /// <param name="afterKey">Only keys ordered after this one (the last key of the previous page), or null to start at the beginning.</param>
    /// <param name="limit">The page size, 1 to 10,000.</param>
    /// <param name="ct">Cancels the query.</param>
    /// <returns>Up to <paramref name="limit"/> entries; cleared grains (no payload) are skipped.</returns>
    /// <exception cref="GrainStateReadException">A row's state cannot be read as <typeparamref name="TState"/>.</exception>
    Task<IReadOnlyList<GrainStateEntry<TState>>> ListAsync<TState>(string stateName, string? keyPrefix, string? afterKey, int limit, CancellationToken ct = default);

    /// <summary>Reads one grain's committed state by key, or null when it has none (never written, or cleared).</summary>
    /// <typeparam name="TState">The state type the grain persists.</typeparam>
    /// <param name="stateName">The state name, as in <c>[PersistentState("job", "store")]</c>.</param>
    /// <param name="key">The grain's key.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>The entry, or null.</returns>
    /// <exception cref="GrainStateReadException">The row's state cannot be read as <typeparamref name="TState"/>.</exception>
    Task<GrainStateEntry<TState>?> GetAsync<TState>(string stateName, string key, CancellationToken ct = default);
}
