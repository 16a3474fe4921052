using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Grains.Jobs.Storage;

/// <summary>State of <see cref="OutputNameGrain"/>.</summary>
internal sealed class OutputNameGrainState
{
    public long Last { get; set; }
}

/// <inheritdoc cref="IOutputNameGrain"/>
internal sealed class OutputNameGrain([PersistentState(GrainStates.OutputName, GrainStates.Storage)] IPersistentState<OutputNameGrainState> state)
    : DurableGrain<OutputNameGrainState>(state), IOutputNameGrain
{
    public Task<long> NextAsync() => Task.FromResult(++State.Last);
}
