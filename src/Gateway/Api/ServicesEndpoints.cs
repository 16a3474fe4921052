using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Grains.Services;
using Xmbl.Cluster.Services;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>The service library: publish (<c>POST /api/services</c>), query, one entry, its package, endorsements.</summary>
/// <remarks>Thin: <see cref="ServiceLibrary"/> holds the rules.</remarks>
internal static class ServicesEndpoints
{
    private const int MaxQueryLength = 128;

    public static void MapServicesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/services", PublishAsync).WithName("PublishService")
            .WithSummary("Publishes a signed .meshsvc package (the body). The request must be signed by the package's author (403 otherwise); a package that fails verification gets 400 with its reason (tampered, unsigned, wrong-signer, …); another package under a published version gets 409. 201 when new, 200 when already published.");
        app.MapGet("/api/services", QueryAsync).WithName("QueryServices")
            .WithSummary("The service_query: published versions whose id, description, type or author contain ?query= (optional ?type=, ?limit=), newest first, each with its publisher's trust.");
        app.MapGet("/api/services/{id}/{version}", GetAsync).WithName("GetService")
            .WithSummary("One published version: its entry, manifest and publisher's trust.");
        app.MapGet("/api/services/{id}/{version}/package", GetPackageAsync).WithName("GetServicePackage")
            .WithSummary("The package file (application/vnd.xmbl.meshsvc+zip), as published; verify it against the entry's sha256 and signature.");
        app.MapPost("/api/services/endorsements", EndorseAsync).WithName("EndorsePublisher")
            .WithSummary("The signer endorses a publisher: {\"publisher\": did}. Endorsements by publishers raise the endorsed one's trust (see docs/services.md). Returns the publisher's trust now.");
        app.MapGet("/api/services/publishers/{did}", GetPublisherAsync).WithName("GetPublisher")
            .WithSummary("A publisher's packages, endorsements both ways, and trust with its reason.");
    }

    private static async Task<IResult> PublishAsync(HttpContext context, ServiceLibrary library, CancellationToken cancellationToken)
    {
        var limit = (int)Math.Min(int.MaxValue, library.Limits.MaxPackageBytes);
        var body = await RequestBodies.ReadAsync(context, limit, PackageLimits.Section + ":" + nameof(PackageLimits.MaxPackageBytes), cancellationToken);
        if (body.Problem is { } refused)
        {
            return refused;
        }

        if (body.Bytes.Length == 0)
        {
            return Problems.BadRequest("The request body is empty; send the .meshsvc file (Content-Type: application/vnd.xmbl.meshsvc+zip).");
        }

        try
        {
            var (created, listing) = await library.PublishAsync(body.Bytes, Accounts.Of(context), cancellationToken);
            var view = View(listing);
            return created ? Results.Created($"/api/services/{listing.Entry.PackageId}/{listing.Entry.Version}", view) : Results.Ok(view);
        }
        catch (PackageRejectedException e)
        {
            var extensions = new Dictionary<string, object?> { ["reason"] = e.ReasonCode };
            if (e.ManifestErrors.Count > 0)
            {
                extensions["errors"] = e.ManifestErrors.GroupBy(m => m.Path).ToDictionary(g => g.Key, g => g.Select(m => m.Message).ToArray());
            }

            var problem = Results.Problem(detail: e.Message, statusCode: e.Reason == PackageRejection.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, title: "Package refused", extensions: extensions);
            return e.Reason == PackageRejection.TooLarge ? Problems.ClosingConnection(problem) : problem;
        }
        catch (LibraryRequestException e)
        {
            return e.Refusal switch
            {
                LibraryRefusal.NotAuthor => Problems.Forbidden(e.Message),
                LibraryRefusal.Conflict => Results.Problem(detail: e.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
                _ => Problems.BadRequest(e.Message),
            };
        }
        catch (ObjectPolicyException e)
        {
            return Problems.Refused(e.Decision);
        }
    }

    private static async Task<IResult> QueryAsync(ServiceLibrary library, string? query, string? type, string? limit)
    {
        if (query is { Length: > MaxQueryLength })
        {
            return Problems.BadRequest($"query is at most {MaxQueryLength} characters.");
        }

        if (type is not null && !ServiceVocabulary.ServiceTypes.Contains(type))
        {
            return Problems.BadRequest($"type must be one of: {string.Join(", ", ServiceVocabulary.ServiceTypes)}.");
        }

        if (!Problems.TryPageSize(limit, 50, 1000, out var size, out var problem))
        {
            return problem;
        }

        var listings = await library.QueryAsync(query, type, size);
        return Results.Ok(new { services = listings.Select(View).ToArray() });
    }

    private static async Task<IResult> GetAsync(string id, string version, ServiceLibrary library) =>
        await library.GetAsync(id, version) is { } listing ? Results.Ok(View(listing)) : NotPublished(id, version);

    private static async Task<IResult> GetPackageAsync(string id, string version, ServiceLibrary library, CancellationToken cancellationToken)
    {
        if (await library.GetAsync(id, version) is not { } listing)
        {
            return NotPublished(id, version);
        }

        try
        {
            var bytes = await library.ReadBytesAsync(listing.Entry, cancellationToken);
            return Results.File(bytes, ServiceLibrary.MediaType, $"{id}-{version}.meshsvc");
        }
        catch (PackageRejectedException e)
        {
            // The entry exists but its object cannot be read back (storage lost it): not the client's fault.
            return Problems.Unavailable(e.Message);
        }
    }

    private static async Task<IResult> EndorseAsync(HttpContext context, ServiceLibrary library, CancellationToken cancellationToken)
    {
        var body = await RequestBodies.ReadAsync(context, 4096, "a 4 KiB endorsement", cancellationToken);
        if (body.Problem is { } refused)
        {
            return refused;
        }

        string? publisher;
        try
        {
            using var document = JsonDocument.Parse(body.Bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Any(p => p.Name != "publisher"))
            {
                return Problems.BadRequest("The body is {\"publisher\": \"did:key:…\"} and nothing else.");
            }

            publisher = root.TryGetProperty("publisher", out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        }
        catch (JsonException e)
        {
            return Problems.BadRequest("The body is not JSON: " + e.Message);
        }

        if (publisher is null)
        {
            return Problems.BadRequest("publisher is required: the did:key of the publisher to endorse.");
        }

        try
        {
            return Results.Ok(Trust(publisher, await library.EndorseAsync(Accounts.Of(context), publisher)));
        }
        catch (LibraryRequestException e)
        {
            return Problems.BadRequest(e.Message);
        }
    }

    private static async Task<IResult> GetPublisherAsync(string did, ServiceLibrary library)
    {
        if (!Identity.PublicIdentity.TryParseDid(did, out _))
        {
            return Problems.BadRequest("A publisher is the did:key of an Ed25519 key.");
        }

        var record = await library.PublisherAsync(did);
        var trust = await library.AssessAsync(did);
        return Results.Ok(new { did, packages = record.Packages, endorsers = record.Endorsers, endorses = record.Endorses, trust = Trust(did, trust) });
    }

    private static IResult NotPublished(string id, string version) => Problems.NotFound($"{id}@{version} is not published.");

    private static object View(ServiceListing listing)
    {
        var e = listing.Entry;
        using var manifest = JsonDocument.Parse(e.Manifest);
        return new
        {
            packageId = e.PackageId,
            version = e.Version,
            author = e.Author,
            serviceType = e.ServiceType,
            description = e.Description,
            sha256 = e.Sha256,
            size = e.Size,
            publishedAt = e.PublishedAt,
            trust = Trust(e.Author, listing.Trust),
            manifest = manifest.RootElement.Clone(),
        };
    }

    private static object Trust(string publisher, TrustAssessment trust) => new
    {
        publisher,
        tier = trust.Tier == TrustTier.Trusted ? "trusted" : "untrusted",
        endorsedBy = trust.CountedEndorsers,
        reason = trust.Reason,
    };
}
