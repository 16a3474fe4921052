using Microsoft.Extensions.Logging;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>Event ids of the storage subsystem (the 3000 range).</summary>
internal static class StorageEventIds
{
    public const int TempFilesRemoved = 3001;
    public const int ScrubFoundUnhealthy = 3002;
    public const int ShardRequestRejected = 3010;
    public const int ShardFetchFailed = 3020;
    public const int ObjectWriteAborted = 3030;
    public const int ShardPutRetried = 3031;
    public const int CleanupDeleteFailed = 3032;
    public const int StripeRepaired = 3040;
    public const int StripeUnrecoverable = 3041;
    public const int RelayTunnelsFailing = 3050;
    public const int RelayTunnelsOpen = 3051;
    public const int RelayForwardFailed = 3052;
    public const int RelayTunnelRefused = 3053;
    public const int RelayLocalDialFailed = 3054;
}

/// <summary>Source-generated log messages of the storage subsystem.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(EventId = StorageEventIds.TempFilesRemoved, Level = LogLevel.Information, Message = "Removed {Count} unfinished shard files from volume {Volume}")]
    public static partial void TempFilesRemoved(ILogger logger, string volume, int count);

    [LoggerMessage(EventId = StorageEventIds.ScrubFoundUnhealthy, Level = LogLevel.Warning, Message = "Scrub checked {Checked} shards: {Unhealthy} corrupt or missing, {Orphans} orphan files")]
    public static partial void ScrubFoundUnhealthy(ILogger logger, int @checked, int unhealthy, int orphans);

    [LoggerMessage(EventId = StorageEventIds.ShardRequestRejected, Level = LogLevel.Warning, Message = "Rejected shard request {Method} {Path} from {Remote}: {Reason}")]
    public static partial void ShardRequestRejected(ILogger logger, string method, string path, string? remote, string reason);

    [LoggerMessage(EventId = StorageEventIds.ShardFetchFailed, Level = LogLevel.Warning, Message = "Shard {ShardIndex} of stripe {Stripe} of {Object} ({ShardId} on {NodeId}) could not be read; reading another")]
    public static partial void ShardFetchFailed(ILogger logger, string @object, int stripe, int shardIndex, string shardId, string nodeId, Exception exception);

    [LoggerMessage(EventId = StorageEventIds.ObjectWriteAborted, Level = LogLevel.Warning, Message = "Write of {Object} failed; deleting the {Count} shards it stored")]
    public static partial void ObjectWriteAborted(ILogger logger, string @object, int count, Exception exception);

    [LoggerMessage(EventId = StorageEventIds.ShardPutRetried, Level = LogLevel.Warning, Message = "Storing shard {ShardIndex} of stripe {Stripe} on {NodeId} failed; retrying on {Replacement}")]
    public static partial void ShardPutRetried(ILogger logger, int stripe, int shardIndex, string nodeId, string replacement, Exception exception);

    [LoggerMessage(EventId = StorageEventIds.CleanupDeleteFailed, Level = LogLevel.Debug, Message = "Could not delete shard {ShardId} on {NodeId} while cleaning up")]
    public static partial void CleanupDeleteFailed(ILogger logger, string shardId, string nodeId, Exception exception);

    [LoggerMessage(EventId = StorageEventIds.StripeRepaired, Level = LogLevel.Information, Message = "Rebuilt {Count} shards of stripe {Stripe} of {Object}")]
    public static partial void StripeRepaired(ILogger logger, string @object, int stripe, int count);

    [LoggerMessage(EventId = StorageEventIds.StripeUnrecoverable, Level = LogLevel.Error, Message = "Stripe {Stripe} of {Object} has fewer than k readable shards: its data is lost")]
    public static partial void StripeUnrecoverable(ILogger logger, string @object, int stripe);

    [LoggerMessage(EventId = StorageEventIds.RelayTunnelsFailing, Level = LogLevel.Warning, Message = "Cannot open a relay tunnel to {Relay}; other members cannot reach this silo's shards until one opens. Retrying every {RetryDelay}")]
    public static partial void RelayTunnelsFailing(ILogger logger, Uri relay, TimeSpan retryDelay, Exception exception);

    [LoggerMessage(EventId = StorageEventIds.RelayTunnelsOpen, Level = LogLevel.Information, Message = "Relay tunnels to {Relay} are open: other members reach this silo's shards at {Address}")]
    public static partial void RelayTunnelsOpen(ILogger logger, Uri relay, Uri address);

    [LoggerMessage(EventId = StorageEventIds.RelayForwardFailed, Level = LogLevel.Warning, Message = "Could not relay {Method} {Path} to silo {Silo}: {Reason}")]
    public static partial void RelayForwardFailed(ILogger logger, string method, string path, string silo, string reason);

    [LoggerMessage(EventId = StorageEventIds.RelayTunnelRefused, Level = LogLevel.Warning, Message = "Refused a relay tunnel from silo {Silo} ({Remote}): it already keeps {Count} idle tunnels here")]
    public static partial void RelayTunnelRefused(ILogger logger, string silo, string? remote, int count);

    [LoggerMessage(EventId = StorageEventIds.RelayLocalDialFailed, Level = LogLevel.Error, Message = "A relayed request could not reach this silo's own HTTP endpoint {Endpoint}")]
    public static partial void RelayLocalDialFailed(ILogger logger, string endpoint, Exception exception);
}
