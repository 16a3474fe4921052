namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>Where a graceful leave (<c>xmbl node leave</c>) stands.</summary>
[GenerateSerializer, Alias("xmbl.NodeLeavePhase")]
public enum NodeLeavePhase
{
    /// <summary>The node takes no new jobs or shards, finishes its runs and hands its shards to other nodes.</summary>
    Leaving,

    /// <summary>Every run finished and every shard was handed over: the node is empty and out of the cluster.</summary>
    Left,

    /// <summary>The hand-off could not complete (see the reason); the node kept what it still holds and takes work again.</summary>
    Stopped,
}

/// <summary>A node's graceful leave and its progress.</summary>
/// <param name="Phase">Where it stands.</param>
/// <param name="StartedAt">When the operator asked.</param>
/// <param name="ShardsAtStart">Shards the node held when the leave began.</param>
/// <param name="ShardsMoved">Shards handed to other nodes so far.</param>
/// <param name="ShardsLeft">Shards the node still holds (at the last progress report).</param>
/// <param name="RunningJobs">Runs still going on the node (at the last progress report).</param>
/// <param name="FinishedAt">When it ended (left or stopped), else null.</param>
/// <param name="Reason">Why it stopped, else null.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeLeave")]
public sealed record NodeLeave(
    NodeLeavePhase Phase,
    DateTimeOffset StartedAt,
    int ShardsAtStart,
    int ShardsMoved,
    int ShardsLeft,
    int RunningJobs,
    DateTimeOffset? FinishedAt = null,
    string? Reason = null)
{
    /// <summary>Whether the node takes no new jobs and no new shards: while leaving and once left.</summary>
    public bool TakesNoWork => Phase is NodeLeavePhase.Leaving or NodeLeavePhase.Left;
}
