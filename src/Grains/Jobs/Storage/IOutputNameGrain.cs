using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Jobs.Storage;

/// <summary>The counter behind unique output names under one <c>namespace/prefix/</c>, shared by every silo.</summary>
public interface IOutputNameGrain : IGrainWithStringKey
{
    /// <summary>The next number (1, 2, …); never handed out twice.</summary>
    Task<long> NextAsync();
}

/// <summary>State of <see cref="OutputNameGrain"/>.</summary>
internal sealed class OutputNameGrainState
{
    public long Last { get; set; }
}

/// <inheritdoc cref="IOutputNameGrain"/>
internal sealed class OutputNameGrain : Grain<OutputNameGrainState>, IOutputNameGrain
{
    public Task<long> NextAsync() => Task.FromResult(++State.Last);
}
