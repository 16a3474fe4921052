namespace Xmbl.Cluster.Storage.Policies;

/// <summary>The storage policies, bound from <c>Xmbl:Storage:Policies</c>.</summary>
public sealed class StoragePolicyOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Xmbl:Storage:Policies";

    /// <summary>The largest object anywhere, in bytes; 0 means <see cref="Options.StorageOptions.MaxObjectSize"/>.</summary>
    public long MaxObjectSize { get; set; }

    /// <summary>The quota of an account without its own entry, in bytes; 0 means none.</summary>
    public long DefaultAccountQuotaBytes { get; set; }

    /// <summary>The namespace policies; an exact name wins over a pattern, and a longer pattern over a shorter one.</summary>
    public IList<NamespacePolicy> Namespaces { get; } = [];

    /// <summary>Per-account quotas.</summary>
    public IList<AccountQuota> AccountQuotas { get; } = [];
}
