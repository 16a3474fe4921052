namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>A part of the silo that can make it unhealthy; <c>/healthz</c> answers 503 with the problems while any exist.</summary>
public interface ISiloHealthReporter
{
    /// <summary>Adds this part's current problems (one line each) to <paramref name="problems"/>; adds nothing when healthy.</summary>
    void AddProblems(ICollection<string> problems);
}
