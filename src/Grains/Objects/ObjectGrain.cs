using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Holds an object's visible manifest; every change is written before the call returns.</summary>
public sealed class ObjectGrain([PersistentState(GrainStates.Object, GrainStates.Storage)] IPersistentState<ObjectGrainState> state)
    : DurableGrain<ObjectGrainState>(state), IObjectGrain
{
    /// <inheritdoc/>
    public Task<StoredObject?> CommitAsync(StoredObject version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var previous = State.Current;
        State.Current = version;
        return Task.FromResult(previous);
    }

    /// <inheritdoc/>
    public Task<StoredObject?> GetAsync() => Task.FromResult(State.Current);

    /// <inheritdoc/>
    public Task<StoredObject?> DeleteAsync()
    {
        var previous = State.Current;
        State.Current = null;
        return Task.FromResult(previous);
    }

    /// <inheritdoc/>
    public Task<bool> ReplaceManifestAsync(string versionId, ObjectManifest repaired)
    {
        ArgumentNullException.ThrowIfNull(repaired);
        if (State.Current is not { } current || !string.Equals(current.VersionId, versionId, StringComparison.Ordinal))
        {
            return Task.FromResult(false);
        }

        State.Current = current with { Manifest = repaired };
        return Task.FromResult(true);
    }

    /// <inheritdoc/>
    public Task<bool> SwapManifestAsync(ObjectManifest expected, ObjectManifest replacement)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(replacement);
        if (State.Current is not { } current || !current.Manifest.AllShards.Select(s => s.ShardId).SequenceEqual(expected.AllShards.Select(s => s.ShardId)))
        {
            return Task.FromResult(false);
        }

        State.Current = current with { Manifest = replacement };
        return Task.FromResult(true);
    }
}
