namespace Xmbl.Cluster.Storage.Policies;

/// <summary>Who is asking: an account, possibly acting as a task or a service.</summary>
/// <param name="Account">The caller's account id (<c>did:key:…</c>).</param>
public sealed record StoragePrincipal(string Account)
{
    /// <summary>The task the caller runs as (a job's storage proxy), when any.</summary>
    public string? TaskId { get; init; }

    /// <summary>The service the caller belongs to (a service's tasks carry it too), when any.</summary>
    public string? ServiceId { get; init; }
}

/// <summary>One operation to decide on.</summary>
/// <param name="Principal">The caller.</param>
/// <param name="Namespace">The namespace.</param>
/// <param name="Name">The object name (empty for a listing).</param>
/// <param name="Operation">The one operation asked for.</param>
public sealed record StorageAccessRequest(StoragePrincipal Principal, string Namespace, string Name, ObjectOperations Operation)
{
    /// <summary>The declared media type of a write.</summary>
    public string? ContentType { get; init; }

    /// <summary>The declared size of a write (Content-Length), when known; the writer enforces the limit while streaming otherwise.</summary>
    public long? Size { get; init; }

    /// <summary>The bytes the caller's account already stores.</summary>
    public long AccountUsedBytes { get; init; }

    /// <summary>The bytes the namespace already holds.</summary>
    public long NamespaceUsedBytes { get; init; }

    /// <summary>The size of the object a write replaces (freed when it commits); 0 for a new object.</summary>
    public long ReplacedSize { get; init; }
}
