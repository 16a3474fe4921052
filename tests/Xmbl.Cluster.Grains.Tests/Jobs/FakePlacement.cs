using Xmbl.Cluster.Grains.Jobs.Scheduling;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Placement over a fixed list of nodes with one slot each, recording what it was asked.</summary>
internal sealed class FakePlacement : IJobPlacement
{
    private readonly List<string> _nodes;
    private readonly Dictionary<string, int> _busy = new(StringComparer.Ordinal);

    public FakePlacement(params string[] nodes)
    {
        _nodes = [.. nodes];
    }

    public int SlotsPerNode { get; set; } = 1;

    public List<PlacementRequest> Requests { get; } = [];

    public List<(string NodeId, int AssignmentId, TimeSpan? RunTime)> Released { get; } = [];

    public List<string> Pending { get; } = [];

    public string Operator { get; set; } = "op";

    public int Busy(string nodeId) => _busy.GetValueOrDefault(nodeId);

    public PlacementChoice? Place(PlacementRequest request)
    {
        Requests.Add(request);
        foreach (var node in _nodes)
        {
            if (!request.ExcludedNodes.Contains(node) && Busy(node) < SlotsPerNode)
            {
                _busy[node] = Busy(node) + 1;
                return new PlacementChoice(node, Operator, 2m);
            }
        }

        return null;
    }

    public void Release(string nodeId, string jobId, int assignmentId, TimeSpan? runTime)
    {
        _busy[nodeId] = Busy(nodeId) - 1;
        Released.Add((nodeId, assignmentId, runTime));
    }

    public void EnqueuePending(string jobId) => Pending.Add(jobId);

    public decimal? HighestPrice() => 2m;

    public string ExplainNoNode(PlacementRequest request) =>
        NodeFitness.Explain(_nodes.Select(n => new NodeCandidate(n, Operator, true, SlotsPerNode, Busy(n), 2m, 0.5, null)), request.Spec.MaxPricePerMillionFuel, 0.2, request.ExcludedNodes);

    public void Add(string nodeId) => _nodes.Add(nodeId);
}
