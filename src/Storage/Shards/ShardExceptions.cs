namespace Xmbl.Cluster.Storage.Shards;

/// <summary>A shard's content does not match its recorded SHA-256 (or length): the bytes on disk or on the wire are damaged.</summary>
public sealed class ShardCorruptException : IOException
{
    /// <summary>Creates the exception for <paramref name="shardId"/>.</summary>
    public ShardCorruptException(ShardId shardId, string expectedSha256, string? actualSha256, string? detail = null)
        : base($"Shard '{shardId}' is corrupt: expected SHA-256 {expectedSha256}, got {actualSha256 ?? "(unknown)"}{(detail is null ? "" : "; " + detail)}.")
    {
        ShardId = shardId;
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    /// <summary>The corrupt shard.</summary>
    public ShardId ShardId { get; }

    /// <summary>The hash the shard should have.</summary>
    public string ExpectedSha256 { get; }

    /// <summary>The hash of the bytes actually read, when known.</summary>
    public string? ActualSha256 { get; }
}

/// <summary>The shard is not in the store.</summary>
public sealed class ShardNotFoundException : IOException
{
    /// <summary>Creates the exception for <paramref name="shardId"/>.</summary>
    public ShardNotFoundException(ShardId shardId, string? nodeId = null)
        : base(nodeId is null ? $"Shard '{shardId}' was not found." : $"Shard '{shardId}' was not found on node '{nodeId}'.")
    {
        ShardId = shardId;
        NodeId = nodeId;
    }

    /// <summary>The missing shard.</summary>
    public ShardId ShardId { get; }

    /// <summary>The node that was asked, when known.</summary>
    public string? NodeId { get; }
}

/// <summary>No volume of the store has room for the shard.</summary>
public sealed class ShardStoreFullException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ShardStoreFullException(long requestedBytes)
        : base($"No volume has {requestedBytes} bytes free for the shard.") => RequestedBytes = requestedBytes;

    /// <summary>The size that did not fit.</summary>
    public long RequestedBytes { get; }
}

/// <summary>The node that should hold a shard cannot be reached or is unknown to the transport.</summary>
public sealed class ShardNodeUnavailableException : IOException
{
    /// <summary>Creates the exception for <paramref name="nodeId"/>.</summary>
    public ShardNodeUnavailableException(string nodeId, string detail, Exception? inner = null)
        : base($"Shard node '{nodeId}' is unavailable: {detail}", inner) => NodeId = nodeId;

    /// <summary>The unreachable node.</summary>
    public string NodeId { get; }
}
