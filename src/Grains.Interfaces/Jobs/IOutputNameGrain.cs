namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>The counter behind unique output names under one <c>namespace/prefix/</c>, shared by every silo.</summary>
[Alias("xmbl.IOutputNameGrain")]
public interface IOutputNameGrain : IGrainWithStringKey
{
    /// <summary>The next number (1, 2, …); never handed out twice.</summary>
    Task<long> NextAsync();
}
