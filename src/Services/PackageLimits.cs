namespace Xmbl.Cluster.Services;

/// <summary>
/// Bounds on a <c>.meshsvc</c> package read from anyone: sizes, counts and the compression ratio that marks a zip
/// bomb. Configuration section <c>Xmbl:Services:Package</c>; defaults below (docs/services.md, "Limits").
/// </summary>
public sealed record PackageLimits
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Xmbl:Services:Package";

    /// <summary>Defaults.</summary>
    public static PackageLimits Default { get; } = new();

    /// <summary>Largest package file, compressed (<c>MaxPackageBytes</c>, default 64 MiB).</summary>
    public long MaxPackageBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most ZIP entries, manifest and signature included (<c>MaxEntries</c>, default 256).</summary>
    public int MaxEntries { get; init; } = 256;

    /// <summary>Largest single file, uncompressed (<c>MaxEntryBytes</c>, default 64 MiB).</summary>
    public long MaxEntryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest sum of all files, uncompressed (<c>MaxTotalBytes</c>, default 256 MiB).</summary>
    public long MaxTotalBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Highest uncompressed-to-compressed ratio of an entry over 1 MiB (<c>MaxCompressionRatio</c>, default 200).</summary>
    public int MaxCompressionRatio { get; init; } = 200;
}
