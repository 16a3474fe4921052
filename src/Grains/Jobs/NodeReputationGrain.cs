using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Runtime;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>A node's reputation: rises slowly with agreements, falls fast when outvoted or timing out.</summary>
internal sealed class NodeReputationGrain : Grain<NodeReputationGrainState>, INodeReputationGrain
{
    /// <summary>Share of the distance to 1 gained per agreement.</summary>
    public const double AgreementGain = 0.02;

    /// <summary>Share of the score lost per disagreement (outvoted by the majority).</summary>
    public const double DisagreementLoss = 0.3;

    /// <summary>Share of the score lost per timeout.</summary>
    public const double TimeoutLoss = 0.05;

    public Task<NodeReputation> RecordAsync(ReputationDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.Agreements < 0 || delta.Disagreements < 0 || delta.Timeouts < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), "Reputation counts cannot be negative.");
        }

        State.Score = Apply(State.Score, delta.Agreements, delta.Disagreements, delta.Timeouts);
        State.Agreements += delta.Agreements;
        State.Disagreements += delta.Disagreements;
        State.Timeouts += delta.Timeouts;
        State.UpdatedAt = delta.At;
        return GetAsync();
    }

    public Task<NodeReputation> GetAsync() => Task.FromResult(ToRecord(GetPrimaryKeyString(), State));

    public static NodeReputation ToRecord(string nodeId, NodeReputationGrainState state) =>
        new(nodeId, state.Score, state.Agreements, state.Disagreements, state.Timeouts, state.UpdatedAt);

    /// <summary>The score after the outcomes; the order of a batch does not matter much, losses are applied last.</summary>
    public static double Apply(double score, int agreements, int disagreements, int timeouts)
    {
        score = 1 - ((1 - score) * Math.Pow(1 - AgreementGain, agreements));
        score *= Math.Pow(1 - DisagreementLoss, disagreements);
        score *= Math.Pow(1 - TimeoutLoss, timeouts);
        return Math.Clamp(score, 0, 1);
    }
}
