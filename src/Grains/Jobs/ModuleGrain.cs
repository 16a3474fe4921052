using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>An uploaded module's record, keyed by its SHA-256; content-addressed, so the first upload wins.</summary>
internal sealed class ModuleGrain([PersistentState(GrainStates.Module, GrainStates.Storage)] IPersistentState<ModuleGrainState> state)
    : DurableGrain<ModuleGrainState>(state), IModuleGrain
{
    public Task<ModuleInfo> RegisterAsync(ModuleInfo info, byte[]? bytes)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!string.Equals(info.Hash, this.GetPrimaryKeyString(), StringComparison.Ordinal))
        {
            throw new ArgumentException($"Module {info.Hash} registered under key {this.GetPrimaryKeyString()}.", nameof(info));
        }

        if (State.Info is null)
        {
            State.Info = info with { BytesInDatabase = bytes is not null };
            State.Bytes = bytes;
        }
        else if (State.Bytes is null && bytes is not null)
        {
            // Uploaded again in cluster mode after an embedded start: keep the bytes where every silo can reach them.
            State.Bytes = bytes;
            State.Info = State.Info with { BytesInDatabase = true };
        }

        return Task.FromResult(State.Info);
    }

    public Task<ModuleInfo?> GetAsync() => Task.FromResult(State.Info);

    public Task<byte[]?> GetBytesAsync() => Task.FromResult(State.Bytes);
}
