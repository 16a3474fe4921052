using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Storage;

/// <summary>Lists stored grain state without taking grain locks.</summary>
internal sealed class GrainStateQuery(IPersistenceBackend backend, GrainRuntime runtime) : IGrainStateQuery
{
    public const int MaxLimit = 10_000;

    public async Task<IReadOnlyList<GrainStateEntry<TState>>> ListAsync<TState>(string grainType, string? keyPrefix, string? afterKey, int limit, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(grainType);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        await runtime.EnsureInitializedAsync(ct).ConfigureAwait(false);
        var rows = await backend.States.ListAsync(grainType, string.IsNullOrEmpty(keyPrefix) ? null : keyPrefix, afterKey, limit, ct).ConfigureAwait(false);
        var result = new GrainStateEntry<TState>[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            result[i] = new GrainStateEntry<TState>(row.Key, row.Version, Deserialize<TState>(row.State, new GrainId(grainType, row.Key)), row.UpdatedAt);
        }

        return result;
    }

    public async Task<GrainStateEntry<TState>?> GetAsync<TState>(string grainType, string key, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(grainType);
        ArgumentNullException.ThrowIfNull(key);
        await runtime.EnsureInitializedAsync(ct).ConfigureAwait(false);
        var id = new GrainId(grainType, key);
        return await backend.States.ReadAsync(id, ct).ConfigureAwait(false) is { } row
            ? new GrainStateEntry<TState>(row.Key, row.Version, Deserialize<TState>(row.State, id), row.UpdatedAt)
            : null;
    }

    private static TState Deserialize<TState>(byte[] bytes, GrainId id)
    {
        try
        {
            var state = System.Text.Json.JsonSerializer.Deserialize<TState>(bytes, GrainStateSerializer.Options);
            return state ?? throw new GrainStateException(id.Type, id.Key, "the stored state is JSON null.");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new GrainStateException(id.Type, id.Key, $"the stored bytes are not valid JSON for {typeof(TState).Name} ({ex.Message}).", ex);
        }
    }
}
