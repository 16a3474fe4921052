using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Records what the state machine asked of the outside world.</summary>
internal sealed class RecordingEffects : IJobEffects
{
    public List<JobDispatch> Dispatched { get; } = [];

    public Dictionary<string, (int Agreements, int Disagreements, int Timeouts)> Reputation { get; } = new(StringComparer.Ordinal);

    public List<string> Stopped { get; } = [];

    public void Dispatch(JobDispatch dispatch) => Dispatched.Add(dispatch);

    public void StopRuns(string jobId, IEnumerable<string> nodeIds) => Stopped.Add(jobId);

    void IJobEffects.Reputation(string nodeId, int agreements, int disagreements, int timeouts)
    {
        var (a, d, t) = Reputation.GetValueOrDefault(nodeId);
        Reputation[nodeId] = (a + agreements, d + disagreements, t + timeouts);
    }
}
