using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Services;

namespace Xmbl.Cluster.Grains.Services;

/// <summary>Why a publish or an endorsement is refused, beyond a bad package.</summary>
public enum LibraryRefusal
{
    /// <summary>The request is not signed by the package's author.</summary>
    NotAuthor,

    /// <summary>Another package already holds this id and version.</summary>
    Conflict,

    /// <summary>The request itself is wrong (self-endorsement, a bad did).</summary>
    Invalid,
}

/// <summary>A refused library request.</summary>
/// <param name="refusal">Which rule.</param>
/// <param name="message">How, in a sentence.</param>
public sealed class LibraryRequestException(LibraryRefusal refusal, string message) : Exception(message)
{
    /// <summary>Which rule.</summary>
    public LibraryRefusal Refusal { get; } = refusal;
}

/// <summary>An entry with its publisher's trust, as the API shows it.</summary>
/// <param name="Entry">The entry.</param>
/// <param name="Trust">The publisher's trust.</param>
public sealed record ServiceListing(ServiceEntry Entry, TrustAssessment Trust);

/// <summary>
/// The service library: verified packages stored as erasure-coded objects in <see cref="Namespace"/> (owned by the
/// library, readable by all, writable by nobody else), entries indexed by id and version in grains, publishers and
/// their endorsements, and <see cref="RetrieveAsync"/> (the <c>retrieve_service</c>) that re-verifies every copy.
/// </summary>
public sealed partial class ServiceLibrary(
    IGrainFactory grains,
    ObjectService objects,
    IOptions<ServiceLibraryOptions> options,
    IOptions<PackageLimits> limits,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    ILogger<ServiceLibrary> logger)
{
    /// <summary>The object namespace packages are stored in.</summary>
    public const string Namespace = "xmbl-services";

    /// <summary>The account that owns stored packages (not a key: nobody can sign as it).</summary>
    public const string Account = "xmbl-service-library";

    /// <summary>The media type of a package.</summary>
    public const string MediaType = "application/vnd.xmbl.meshsvc+zip";

    private readonly ServiceLibraryOptions _options = options.Value;

    /// <summary>The package limits in force.</summary>
    public PackageLimits Limits { get; } = limits.Value;

    /// <summary>
    /// Verifies a package (every <see cref="PackageReader"/> check), checks that <paramref name="signer"/> is its author,
    /// stores it and records it. Publishing the same package again is harmless; another package under a published
    /// version is refused.
    /// </summary>
    /// <param name="package">The package bytes.</param>
    /// <param name="signer">The request's signer.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>Whether it is new, and the entry.</returns>
    /// <exception cref="PackageRejectedException">The package is refused.</exception>
    /// <exception cref="LibraryRequestException">Not the author, or a conflicting version.</exception>
    public async Task<(bool Created, ServiceListing Listing)> PublishAsync(ReadOnlyMemory<byte> package, string signer, CancellationToken cancellationToken)
    {
        var verified = PackageReader.Read(package, Limits);
        var manifest = verified.Manifest;
        if (!string.Equals(signer, manifest.Author, StringComparison.Ordinal))
        {
            throw new LibraryRequestException(LibraryRefusal.NotAuthor, $"{manifest.Key} is by {manifest.Author}; only its author may publish it (the request is signed by {signer}).");
        }

        var grain = grains.GetGrain<IServicePackageGrain>(manifest.Key);
        if (await grain.GetAsync() is { } existing)
        {
            return existing.Sha256 == verified.Sha256
                ? (false, await ListingAsync(existing))
                : throw Conflict(manifest.Key);
        }

        // The object's name carries the hash, so two different packages racing for one version never overwrite each other.
        if (!ObjectKey.TryCreate(Namespace, $"{manifest.PackageId}/{manifest.Version}/{verified.Sha256}.meshsvc", out var key, out var error))
        {
            throw new LibraryRequestException(LibraryRefusal.Invalid, error);
        }

        using (var body = new MemoryStream(package.ToArray(), writable: false))
        {
            await objects.PutAsync(key, new ObjectWriteOptions(Account, MediaType) { ExpectedSha256 = verified.Sha256 }, package.Length, body, cancellationToken);
        }

        var entry = new ServiceEntry(
            manifest.PackageId, manifest.Version, manifest.Author, manifest.ServiceType, manifest.Description, verified.Sha256, verified.Size,
            key.GrainKey, System.Text.Encoding.UTF8.GetString(ManifestWriter.ToCanonicalJson(manifest)), time.GetUtcNow());
        var (outcome, recorded) = await grain.PublishAsync(entry);
        if (outcome == PublishOutcome.Conflict)
        {
            throw Conflict(manifest.Key);
        }

        await grains.GetGrain<IServiceCatalogGrain>(0).AddAsync(recorded);
        await grains.GetGrain<IPublisherGrain>(manifest.Author).AddPackageAsync(manifest.Key);
        if (outcome == PublishOutcome.Created)
        {
            LogPublished(manifest.Key, manifest.Author, verified.Sha256);
        }

        return (outcome == PublishOutcome.Created, await ListingAsync(recorded));
    }

    /// <summary>One entry with its trust, or null.</summary>
    /// <param name="packageId">The id.</param>
    /// <param name="version">The version.</param>
    /// <returns>The listing.</returns>
    public async Task<ServiceListing?> GetAsync(string packageId, string version) =>
        await grains.GetGrain<IServicePackageGrain>(packageId + "@" + version).GetAsync() is { } entry ? await ListingAsync(entry) : null;

    /// <summary>
    /// The <c>service_query</c>: entries whose id, description, type or author contain <paramref name="query"/>
    /// (ignoring case), optionally of one type, newest first.
    /// </summary>
    /// <param name="query">Text to look for, or null for all.</param>
    /// <param name="serviceType">Only this type, or null.</param>
    /// <param name="limit">At most this many (capped by <c>MaxQueryResults</c>).</param>
    /// <returns>The listings.</returns>
    public async Task<IReadOnlyList<ServiceListing>> QueryAsync(string? query, string? serviceType, int limit)
    {
        var all = await grains.GetGrain<IServiceCatalogGrain>(0).ListAsync();
        var matches = all.Where(e =>
                (serviceType is null || e.ServiceType == serviceType)
                && (string.IsNullOrEmpty(query)
                    || e.PackageId.Contains(query, StringComparison.OrdinalIgnoreCase)
                    || e.Description.Contains(query, StringComparison.OrdinalIgnoreCase)
                    || e.ServiceType.Contains(query, StringComparison.OrdinalIgnoreCase)
                    || e.Author == query))
            .Take(Math.Min(limit, _options.MaxQueryResults))
            .ToList();
        var result = new List<ServiceListing>(matches.Count);
        foreach (var entry in matches)
        {
            result.Add(await ListingAsync(entry));
        }

        return result;
    }

    /// <summary>
    /// The <c>retrieve_service</c>: reads the stored package and verifies it again (hash recorded at publish, then every
    /// package check), so a copy altered anywhere on the way is refused.
    /// </summary>
    /// <param name="entry">The entry.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The verified package.</returns>
    /// <exception cref="PackageRejectedException">The stored copy is not the published package.</exception>
    public async Task<ServicePackage> RetrieveAsync(ServiceEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var bytes = await ReadBytesAsync(entry, cancellationToken);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (hash != entry.Sha256)
        {
            throw new PackageRejectedException(PackageRejection.Tampered, $"The stored copy of {entry.Key} hashes to {hash}, not the published {entry.Sha256}.");
        }

        var package = PackageReader.Read(bytes, Limits);
        if (package.Manifest.Key != entry.Key || package.Manifest.Author != entry.Author)
        {
            throw new PackageRejectedException(PackageRejection.Tampered, $"The stored copy of {entry.Key} holds {package.Manifest.Key} by {package.Manifest.Author}.");
        }

        return package;
    }

    /// <summary>The stored package's bytes (not verified: <see cref="RetrieveAsync"/> verifies).</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes.</returns>
    public async Task<byte[]> ReadBytesAsync(ServiceEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var slash = entry.Object.IndexOf('/', StringComparison.Ordinal);
        if (!ObjectKey.TryCreate(entry.Object[..slash], entry.Object[(slash + 1)..], out var key, out _)
            || await objects.GetAsync(key) is not { } stored)
        {
            throw new PackageRejectedException(PackageRejection.Malformed, $"The package of {entry.Key} is missing from storage ({entry.Object}).");
        }

        using var buffer = new MemoryStream();
        await objects.ReadAsync(stored, buffer, 0, null, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Records that <paramref name="endorser"/> endorses <paramref name="publisher"/>.</summary>
    /// <param name="endorser">The signer of the request.</param>
    /// <param name="publisher">The endorsed did:key.</param>
    /// <returns>The endorsed publisher's trust now.</returns>
    /// <exception cref="LibraryRequestException">A self-endorsement or a bad did.</exception>
    public async Task<TrustAssessment> EndorseAsync(string endorser, string publisher)
    {
        if (!Identity.PublicIdentity.TryParseDid(publisher, out _))
        {
            throw new LibraryRequestException(LibraryRefusal.Invalid, "publisher must be the did:key of an Ed25519 key.");
        }

        if (string.Equals(endorser, publisher, StringComparison.Ordinal))
        {
            throw new LibraryRequestException(LibraryRefusal.Invalid, "A publisher cannot endorse itself.");
        }

        await grains.GetGrain<IPublisherGrain>(publisher).AddEndorserAsync(endorser);
        await grains.GetGrain<IPublisherGrain>(endorser).AddEndorsedAsync(publisher);
        LogEndorsed(endorser, publisher);
        return await AssessAsync(publisher);
    }

    /// <summary>A publisher's record.</summary>
    /// <param name="did">The publisher.</param>
    /// <returns>The record.</returns>
    public Task<PublisherRecord> PublisherAsync(string did) => grains.GetGrain<IPublisherGrain>(did).GetAsync();

    /// <summary>A publisher's trust (<see cref="TrustPolicy"/>).</summary>
    /// <param name="did">The publisher.</param>
    /// <returns>The assessment.</returns>
    public async Task<TrustAssessment> AssessAsync(string did)
    {
        var record = await grains.GetGrain<IPublisherGrain>(did).GetAsync();
        var publishers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endorser in record.Endorsers)
        {
            if ((await grains.GetGrain<IPublisherGrain>(endorser).GetAsync()).Packages.Count > 0)
            {
                publishers.Add(endorser);
            }
        }

        var operatorTrusted = _options.TrustedPublishers.Contains(did);
        return TrustPolicy.Assess(did, record.Endorsers, publishers.Contains, operatorTrusted, _options.EndorsementsForTrusted);
    }

    private async Task<ServiceListing> ListingAsync(ServiceEntry entry) => new(entry, await AssessAsync(entry.Author));

    private static LibraryRequestException Conflict(string key) =>
        new(LibraryRefusal.Conflict, $"{key} is already published with other content; versions are immutable, so publish a new version.");

    [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "Service {Key} published by {Author} (sha256 {Sha256})")]
    private partial void LogPublished(string key, string author, string sha256);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "{Endorser} endorses publisher {Publisher}")]
    private partial void LogEndorsed(string endorser, string publisher);
}
