
using Xmbl.Cluster.Grains.Interfaces.Objects;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Counts an account's or a namespace's stored bytes; charging is checked against the quota in the same transaction.</summary>
public sealed class StorageUsageGrain([PersistentState(GrainStates.Usage, GrainStates.Storage)] IPersistentState<StorageUsageGrainState> state)
    : DurableGrain<StorageUsageGrainState>(state), IStorageUsageGrain
{
    /// <summary>The key of an account's usage.</summary>
    public static string AccountKey(string account) => "account:" + account;

    /// <summary>The key of a namespace's usage.</summary>
    public static string NamespaceKey(string @namespace) => "namespace:" + @namespace;

    /// <inheritdoc/>
    public Task<StorageUsage> GetAsync() => Task.FromResult(new StorageUsage(State.Bytes, State.Objects));

    /// <inheritdoc/>
    public Task<bool> TryChargeAsync(long bytes, int objects, long? limit)
    {
        if (limit is { } max && State.Bytes + bytes > max)
        {
            return Task.FromResult(false);
        }

        State.Bytes += bytes;
        State.Objects += objects;
        return Task.FromResult(true);
    }

    /// <inheritdoc/>
    public Task RefundAsync(long bytes, int objects)
    {
        // Never below zero: usage that predates accounting, or a double refund after a crash, must not go negative.
        State.Bytes = Math.Max(0, State.Bytes - bytes);
        State.Objects = Math.Max(0, State.Objects - objects);
        return Task.CompletedTask;
    }
}
