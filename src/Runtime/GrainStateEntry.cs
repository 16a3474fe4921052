namespace Xmbl.Cluster.Runtime;

/// <summary>One grain's stored state as listed by <see cref="IGrainStateQuery"/>.</summary>
/// <typeparam name="TState">The state type.</typeparam>
/// <param name="Key">The grain key.</param>
/// <param name="Version">The state version; it grows by one with every call that changes the state.</param>
/// <param name="State">The state.</param>
/// <param name="UpdatedAt">When the state was last written.</param>
public sealed record GrainStateEntry<TState>(string Key, long Version, TState State, DateTimeOffset UpdatedAt);
