using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>
/// A node's reputation: rises slowly with agreements, falls fast when outvoted or timing out, and a score below the
/// neutral one drifts back to it over time (<see cref="Recover"/>), so a network whose nodes all fell below
/// <see cref="ComputeOptions.MinReputation"/> heals by itself.
/// </summary>
internal sealed class NodeReputationGrain(
    [PersistentState(GrainStates.Reputation, GrainStates.Storage)] IPersistentState<NodeReputationGrainState> state,
    IOptions<ComputeOptions> options,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time)
    : DurableGrain<NodeReputationGrainState>(state), INodeReputationGrain
{
    /// <summary>Share of the distance to 1 gained per agreement.</summary>
    public const double AgreementGain = 0.02;

    /// <summary>Share of the score lost per disagreement (outvoted by the majority).</summary>
    public const double DisagreementLoss = 0.3;

    /// <summary>Share of the score lost per timeout.</summary>
    public const double TimeoutLoss = 0.05;

    /// <summary>
    /// How many counted corrupt shard ids are kept to count each once. Repair gives a rebuilt shard a new id, so an id
    /// found again is the same finding; a node with this many altered shards has a score near 0 anyway.
    /// </summary>
    public const int CountedShardsKept = 64;

    public Task<NodeReputation> RecordAsync(ReputationDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.Agreements < 0 || delta.Disagreements < 0 || delta.Timeouts < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), "Reputation counts cannot be negative.");
        }

        // The outcomes apply to the score as recovered until now; recovery then starts again from this change.
        var score = Recover(State.Score, State.UpdatedAt, delta.At, options.Value.ReputationHalfLife);
        State.Score = Apply(score, delta.Agreements, delta.Disagreements, delta.Timeouts);
        State.Agreements += delta.Agreements;
        State.Disagreements += delta.Disagreements;
        State.Timeouts += delta.Timeouts;
        if (delta.At > State.UpdatedAt)
        {
            State.UpdatedAt = delta.At;
        }

        return GetAsync();
    }

    public Task<NodeReputation> RecordCorruptShardAsync(string shardId, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        if (State.CountedShards.Contains(shardId))
        {
            return GetAsync();
        }

        // The same scale as a wrong result: the node handed back something other than what it was trusted with.
        State.Score = Apply(Recover(State.Score, State.UpdatedAt, at, options.Value.ReputationHalfLife), 0, 1, 0);
        State.CorruptShards++;
        State.CountedShards.Add(shardId);
        if (State.CountedShards.Count > CountedShardsKept)
        {
            State.CountedShards.RemoveAt(0);
        }

        if (at > State.UpdatedAt)
        {
            State.UpdatedAt = at;
        }

        return GetAsync();
    }

    public Task<NodeReputation> GetAsync() =>
        Task.FromResult(ToRecord(this.GetPrimaryKeyString(), State, time.GetUtcNow(), options.Value.ReputationHalfLife));

    /// <summary>The node's reputation as read at <paramref name="now"/>: the stored score with its recovery applied.</summary>
    public static NodeReputation ToRecord(string nodeId, NodeReputationGrainState state, DateTimeOffset now, TimeSpan halfLife) =>
        new(nodeId, Recover(state.Score, state.UpdatedAt, now, halfLife), state.Agreements, state.Disagreements, state.Timeouts, state.UpdatedAt, state.CorruptShards);

    /// <summary>The score after the outcomes; the order of a batch does not matter much, losses are applied last.</summary>
    public static double Apply(double score, int agreements, int disagreements, int timeouts)
    {
        score = 1 - ((1 - score) * Math.Pow(1 - AgreementGain, agreements));
        score *= Math.Pow(1 - DisagreementLoss, disagreements);
        score *= Math.Pow(1 - TimeoutLoss, timeouts);
        return Math.Clamp(score, 0, 1);
    }

    /// <summary>
    /// A score below the neutral <see cref="NodeReputation.InitialScore"/> as it has recovered by <paramref name="now"/>:
    /// its distance to neutral halves every <paramref name="halfLife"/> since <paramref name="changedAt"/>, its last
    /// change. A score at or above neutral is kept (it was earned). Deterministic and applied on read, so nothing
    /// has to run for a node to recover, and the stored score stays the one of the last change.
    /// </summary>
    public static double Recover(double score, DateTimeOffset changedAt, DateTimeOffset now, TimeSpan halfLife)
    {
        const double Neutral = NodeReputation.InitialScore;
        if (score >= Neutral || now <= changedAt || halfLife <= TimeSpan.Zero)
        {
            return score;
        }

        return Neutral - ((Neutral - score) * Math.Pow(2, -((now - changedAt) / halfLife)));
    }
}
