using Microsoft.Extensions.Logging;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>Event ids of the gateway's libp2p bridge (3400-3449, docs/operations.md).</summary>
internal static class BridgeEventId
{
    public const int Listening = 3400;
    public const int PeerViolation = 3410;
    public const int StreamFlood = 3411;
    public const int RequestFailed = 3420;
    public const int EdgeDeclined = 3430;
    public const int EdgeShardAltered = 3431;
}

/// <summary>Source-generated log messages of the bridge.</summary>
internal static partial class BridgeLog
{
    [LoggerMessage(EventId = BridgeEventId.Listening, Level = LogLevel.Information, Message = "libp2p bridge listening on {Address} ({Protocols})")]
    public static partial void Listening(ILogger logger, string address, string protocols);

    [LoggerMessage(EventId = BridgeEventId.PeerViolation, Level = LogLevel.Warning, Message = "Closed connection to peer {Did} at {Remote} on {Protocol}: {Reason}")]
    public static partial void PeerViolation(ILogger logger, string did, string remote, string protocol, string reason);

    [LoggerMessage(EventId = BridgeEventId.StreamFlood, Level = LogLevel.Warning, Message = "Closed connection to peer {Did} at {Remote}: stream flood, more than {Limit} /xmbl streams open at once (Xmbl:Gateway:P2P:MaxStreamsPerConnection)")]
    public static partial void StreamFlood(ILogger logger, string did, string remote, int limit);

    [LoggerMessage(EventId = BridgeEventId.EdgeDeclined, Level = LogLevel.Warning, Message = "Assignment {AssignmentId} of job {JobId} not sent to edge node {NodeId}: the job reads or writes stored objects, which edge nodes cannot reach; it will time out and be reassigned")]
    public static partial void EdgeDeclined(ILogger logger, int assignmentId, string jobId, string nodeId);

    [LoggerMessage(EventId = BridgeEventId.EdgeShardAltered, Level = LogLevel.Warning, Message = "Edge node {NodeId} sent back shard {ShardId} altered ({Received} bytes for {Length}, or another SHA-256): counted as lost")]
    public static partial void EdgeShardAltered(ILogger logger, string shardId, string nodeId, int received, long length);

    [LoggerMessage(EventId = BridgeEventId.RequestFailed, Level = LogLevel.Warning, Message = "{Protocol} request of peer {Did} failed; the peer was told the cluster is unavailable")]
    public static partial void RequestFailed(ILogger logger, string protocol, string did, Exception exception);
}
