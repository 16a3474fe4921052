using Xmbl.Cluster.Runtime;
using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Holds an object's visible manifest; every change is one transaction on the object's row.</summary>
public sealed class ObjectGrain : Grain<ObjectGrainState>, IObjectGrain
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
}
