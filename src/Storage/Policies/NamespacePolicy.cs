namespace Xmbl.Cluster.Storage.Policies;

/// <summary>The rules of one namespace (or of every namespace matching a prefix pattern).</summary>
/// <param name="Namespace">The namespace, or a prefix ending in <c>*</c> (for example <c>task-*</c>).</param>
/// <param name="AccessLevel">Who may reach it.</param>
public sealed record NamespacePolicy(string Namespace, AccessLevel AccessLevel)
{
    /// <summary>The owning task id (task-isolated) or service id (service-shared); null for mesh-global.</summary>
    public string? Owner { get; init; }

    /// <summary>The account that owns the namespace; it may do everything <see cref="AllowedOperations"/> allows.</summary>
    public string? OwnerAccount { get; init; }

    /// <summary>The operations allowed at all in this namespace. Default all.</summary>
    public ObjectOperations AllowedOperations { get; init; } = ObjectOperations.All;

    /// <summary>Explicit grants to other accounts (mesh-global); account <c>*</c> means everyone.</summary>
    public IReadOnlyList<AccessGrant> Grants { get; init; } = [];

    /// <summary>The largest object allowed here, in bytes; null for the global limit.</summary>
    public long? MaxObjectSize { get; init; }

    /// <summary>The most bytes the namespace may hold; null for no quota.</summary>
    public long? QuotaBytes { get; init; }

    /// <summary>Media types allowed for writes (exact, or <c>type/*</c>); empty allows all.</summary>
    public IReadOnlyList<string> AllowedContentTypes { get; init; } = [];

    /// <summary>File extensions allowed for writes, with the dot (<c>.json</c>); empty allows all.</summary>
    public IReadOnlyList<string> AllowedExtensions { get; init; } = [];

    /// <summary>The coding for objects written here; null for the default k and m.</summary>
    public CodingPolicy? Coding { get; init; }

    /// <summary>A task-isolated namespace for <paramref name="taskId"/>, submitted by <paramref name="ownerAccount"/>.</summary>
    public static NamespacePolicy ForTask(string @namespace, string taskId, string ownerAccount) =>
        new(@namespace, AccessLevel.TaskIsolated) { Owner = taskId, OwnerAccount = ownerAccount };

    /// <summary>A service-shared namespace for <paramref name="serviceId"/>, owned by <paramref name="ownerAccount"/>.</summary>
    public static NamespacePolicy ForService(string @namespace, string serviceId, string ownerAccount) =>
        new(@namespace, AccessLevel.ServiceShared) { Owner = serviceId, OwnerAccount = ownerAccount };

    /// <summary>A mesh-global namespace owned by <paramref name="ownerAccount"/> with <paramref name="grants"/>.</summary>
    public static NamespacePolicy MeshGlobal(string @namespace, string ownerAccount, params AccessGrant[] grants) =>
        new(@namespace, AccessLevel.MeshGlobal) { OwnerAccount = ownerAccount, Grants = grants };

    internal bool Matches(string @namespace) =>
        Namespace.EndsWith('*')
            ? @namespace.StartsWith(Namespace.AsSpan(0, Namespace.Length - 1), StringComparison.Ordinal)
            : string.Equals(Namespace, @namespace, StringComparison.Ordinal);
}

/// <summary>Lets <paramref name="Account"/> (or everyone, with <c>*</c>) perform <paramref name="Operations"/>.</summary>
/// <param name="Account">The account id (<c>did:key:…</c>) or <c>*</c>.</param>
/// <param name="Operations">What it may do.</param>
public sealed record AccessGrant(string Account, ObjectOperations Operations);

/// <summary>An erasure coding override: <paramref name="DataShards"/> data and <paramref name="ParityShards"/> parity shards.</summary>
/// <param name="DataShards">k.</param>
/// <param name="ParityShards">m.</param>
public sealed record CodingPolicy(int DataShards, int ParityShards);

/// <summary>A storage quota for one account over all namespaces.</summary>
/// <param name="Account">The account id.</param>
/// <param name="QuotaBytes">The most bytes its objects may take.</param>
public sealed record AccountQuota(string Account, long QuotaBytes);
