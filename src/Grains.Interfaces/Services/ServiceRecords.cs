namespace Xmbl.Cluster.Grains.Interfaces.Services;

/// <summary>A published package's library entry (the package itself is an erasure-coded object).</summary>
/// <param name="PackageId">The package id.</param>
/// <param name="Version">The version.</param>
/// <param name="Author">The author's did:key (the package's signer).</param>
/// <param name="ServiceType">The service type.</param>
/// <param name="Description">The description.</param>
/// <param name="Sha256">The package file's SHA-256 (lower-case hex): what every node checks a retrieved copy against.</param>
/// <param name="Size">The package file's size in bytes.</param>
/// <param name="Object">The object address of the package (<c>namespace/name</c>).</param>
/// <param name="Manifest">The canonical manifest JSON.</param>
/// <param name="PublishedAt">When it was published.</param>
[GenerateSerializer, Immutable, Alias("xmbl.ServiceEntry")]
public sealed record ServiceEntry(
    [property: Id(0)] string PackageId,
    [property: Id(1)] string Version,
    [property: Id(2)] string Author,
    [property: Id(3)] string ServiceType,
    [property: Id(4)] string Description,
    [property: Id(5)] string Sha256,
    [property: Id(6)] long Size,
    [property: Id(7)] string Object,
    [property: Id(8)] string Manifest,
    [property: Id(9)] DateTimeOffset PublishedAt)
{
    /// <summary>The library key, <c>packageId@version</c>.</summary>
    public string Key => PackageId + "@" + Version;
}

/// <summary>How a publish went.</summary>
public enum PublishOutcome
{
    /// <summary>Recorded now.</summary>
    Created,

    /// <summary>The same package was already recorded (same SHA-256): nothing changed.</summary>
    AlreadyPublished,

    /// <summary>Another package holds this id and version: versions are immutable.</summary>
    Conflict,
}

/// <summary>A publisher's record: what it published and who endorses it.</summary>
/// <param name="Did">The publisher's did:key.</param>
/// <param name="Packages">Its packages, <c>packageId@version</c>.</param>
/// <param name="Endorsers">Who endorses it.</param>
/// <param name="Endorses">Whom it endorses.</param>
[GenerateSerializer, Immutable, Alias("xmbl.PublisherRecord")]
public sealed record PublisherRecord(
    [property: Id(0)] string Did,
    [property: Id(1)] IReadOnlyList<string> Packages,
    [property: Id(2)] IReadOnlyList<string> Endorsers,
    [property: Id(3)] IReadOnlyList<string> Endorses);
