namespace Xmbl.Cluster.Storage.Objects;

/// <summary>What to store and how; unset coding parameters take the <see cref="Options.StorageOptions"/> defaults.</summary>
/// <param name="Namespace">The object's namespace.</param>
/// <param name="Name">The object's name.</param>
public sealed record ObjectWriteRequest(string Namespace, string Name)
{
    /// <summary>The media type to record. Default <c>application/octet-stream</c>.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>k for this object (for example a namespace's coding policy); null for the default.</summary>
    public int? DataShards { get; init; }

    /// <summary>m for this object; null for the default.</summary>
    public int? ParityShards { get; init; }

    /// <summary>The shard size for this object; null for the default.</summary>
    public int? ShardSize { get; init; }

    /// <summary>The largest size accepted for this object; null for the configured maximum.</summary>
    public long? MaxSize { get; init; }

    /// <summary>The SHA-256 the client says the content has; when set and different, the write fails and stores nothing.</summary>
    public string? ExpectedSha256 { get; init; }
}
