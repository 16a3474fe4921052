using Orleans.Concurrency;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Cluster;

/// <summary>State of <see cref="ProbeGrain"/>.</summary>
[GenerateSerializer, Alias("xmbl.test.ProbeState")]
public sealed class ProbeState
{
    [Id(0)]
    public int Value { get; set; }

    [Id(1)]
    public List<int> History { get; set; } = [];
}

/// <summary>A <see cref="DurableGrain{TState}"/> with calls that change, fail half-way, or only read.</summary>
[Alias("xmbl.test.IProbeGrain")]
public interface IProbeGrain : IGrainWithStringKey
{
    /// <summary>Sets the value (a no-op when it is already the value).</summary>
    Task SetAsync(int value);

    /// <summary>Changes the state, then throws.</summary>
    Task SetThenThrowAsync(int value);

    [ReadOnly]
    Task<ProbeState> GetAsync();

    /// <summary>An id of this activation, new after every activation.</summary>
    [ReadOnly]
    Task<Guid> ActivationAsync();
}

public sealed class ProbeGrain([PersistentState("probe", GrainStates.Storage)] IPersistentState<ProbeState> state)
    : DurableGrain<ProbeState>(state), IProbeGrain
{
    private readonly Guid _activation = Guid.NewGuid();

    public Task SetAsync(int value)
    {
        if (State.Value != value)
        {
            State.Value = value;
            State.History.Add(value);
        }

        return Task.CompletedTask;
    }

    public Task SetThenThrowAsync(int value)
    {
        State.Value = value;
        State.History.Add(value);
        throw new InvalidOperationException("failed after changing the state");
    }

    public Task<ProbeState> GetAsync() => Task.FromResult(new ProbeState { Value = State.Value, History = [.. State.History] });

    public Task<Guid> ActivationAsync() => Task.FromResult(_activation);
}

/// <summary>Placed like the node host grain (<see cref="NodeHostPlacement"/>); says where it runs.</summary>
[Alias("xmbl.test.IPlacedGrain")]
public interface IPlacedGrain : IGrainWithStringKey
{
    Task<string> SiloNameAsync();
}

[NodeHostPlacement]
public sealed class PlacedGrain(ILocalSiloDetails silo) : Grain, IPlacedGrain
{
    public Task<string> SiloNameAsync() => Task.FromResult(silo.Name);
}
