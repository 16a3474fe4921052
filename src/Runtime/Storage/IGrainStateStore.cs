using Xmbl.Cluster.Runtime.Core;

namespace Xmbl.Cluster.Runtime.Storage;

/// <summary>
/// The grain state contract every backend implements (SQLite, PostgreSQL); the conformance tests run against each.
/// Rows are (grain type, key) → (version, state bytes); a version grows by one per write.
/// </summary>
internal interface IGrainStateStore : IAsyncDisposable
{
    /// <summary>The in-process per-grain lock table shared by every runtime on this database.</summary>
    KeyedAsyncLock Locks { get; }

    /// <summary>Creates the schema (idempotent); fails fast with <see cref="GrainRuntimeStartupException"/> if the database is unusable.</summary>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>Starts a grain call: takes the database-side lock of the row (if the backend has one) and loads the state.</summary>
    /// <remarks>The caller holds the in-process lock of <paramref name="id"/> for the transaction's lifetime.</remarks>
    ValueTask<IGrainStateTransaction> BeginAsync(GrainId id, CancellationToken ct);

    /// <summary>Reads a grain's state without locking; null if the grain has none.</summary>
    Task<StoredGrainState?> ReadAsync(GrainId id, CancellationToken ct);

    /// <summary>Writes a grain's state if its stored version is still <paramref name="expectedVersion"/> (0 = no state yet).</summary>
    /// <returns>The new version.</returns>
    /// <exception cref="InconsistentStateException">The stored version differs.</exception>
    Task<long> WriteAsync(GrainId id, ReadOnlyMemory<byte> state, long expectedVersion, CancellationToken ct);

    /// <summary>Lists grains of one type that have state, ordered by key.</summary>
    Task<IReadOnlyList<StoredGrainState>> ListAsync(string grainType, string? keyPrefix, string? afterKey, int limit, CancellationToken ct);
}

/// <summary>A grain's stored row.</summary>
internal sealed record StoredGrainState(string Key, long Version, byte[] State, DateTimeOffset UpdatedAt);

/// <summary>One grain call's hold on its row: the loaded state, and the write-back at the end.</summary>
internal interface IGrainStateTransaction : IAsyncDisposable
{
    /// <summary>The loaded version; 0 if the grain has no state yet.</summary>
    long Version { get; }

    /// <summary>The loaded state bytes; null if the grain has no state yet.</summary>
    byte[]? State { get; }

    /// <summary>Writes <paramref name="newState"/> (if not null) conditional on <see cref="Version"/>, and ends the transaction.</summary>
    /// <exception cref="InconsistentStateException">Another writer changed the row.</exception>
    ValueTask CommitAsync(byte[]? newState, CancellationToken ct);
}
