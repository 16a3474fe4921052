namespace Xmbl.Cluster.Persistence.Sql;

/// <summary>One grain's committed state as read by <see cref="IGrainStateQuery"/>.</summary>
/// <typeparam name="TState">The state type.</typeparam>
/// <param name="Key">The grain's string key.</param>
/// <param name="Version">The state's version (its ETag): 1 on the first write, +1 per write or clear.</param>
/// <param name="State">The state.</param>
/// <param name="UpdatedAt">When the state was last written (UTC).</param>
public sealed record GrainStateEntry<TState>(string Key, long Version, TState State, DateTimeOffset UpdatedAt);
