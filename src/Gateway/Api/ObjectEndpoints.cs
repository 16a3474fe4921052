using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>Object storage over REST: <c>PUT/GET/HEAD/DELETE /api/objects/{namespace}/{name}</c>, listing and repair.</summary>
internal static partial class ObjectEndpoints
{
    public static void MapObjectEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/api/objects/{ns}/{**name}", PutAsync).WithName("PutObject").WithMetadata(ChecksSignedBody.Instance, OwnsBodyLimit.Instance)
            .WithSummary("Stores the request body as ns/name for the signing account, erasure-coded across nodes; visible only once every stripe is durable and the bytes hash to the signed X-Xmbl-Content-Sha256.");
        app.MapMethods("/api/objects/{ns}/{**name}", [HttpMethods.Get, HttpMethods.Head], GetAsync).WithName("GetObject")
            .WithSummary("Streams an object (Range supported); ?health reports healthy shards per stripe instead.");
        app.MapDelete("/api/objects/{ns}/{**name}", DeleteAsync).WithName("DeleteObject").WithSummary("Deletes an object; only its owner may.");
        app.MapGet("/api/objects/{ns}", ListAsync).WithName("ListObjects")
            .WithSummary("Lists a namespace's objects by name prefix, in name order; page with ?after=<last name>.");
        app.MapGet("/api/storage/usage", UsageAsync).WithName("StorageUsage")
            .WithSummary("Bytes and objects stored by an account (?account=) or in a namespace (?namespace=), as quotas count them.");
        app.MapPost("/api/storage/repair", RepairAsync).WithName("RepairStorage")
            .WithSummary("Operator only. Runs a repair pass now: scrubs every object's shards, rebuilds missing or bad ones on live nodes and deletes orphan shards older than the grace period.");
    }

    private static async Task<IResult> PutAsync(HttpContext context, ObjectService objects, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!ObjectAddress.TryRead(context, out var key, out var error))
        {
            return Problems.BadRequest(error);
        }

        // Object bodies are limited by storage policy, not by the server's generic request-size cap.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var caller = Accounts.CallerOf(context);
        var write = new ObjectWriteOptions(caller.Account, context.Request.ContentType ?? "application/octet-stream") { ExpectedSha256 = caller.SignedContentSha256 };
        try
        {
            var version = await objects.PutAsync(key, write, context.Request.ContentLength, context.Request.Body, cancellationToken);
            return Results.Created($"/api/objects/{key.Namespace}/{Uri.EscapeDataString(key.Name).Replace("%2F", "/", StringComparison.Ordinal)}", ObjectView.From(version));
        }
        catch (ObjectPolicyException ex)
        {
            return Problems.Refused(ex.Decision);
        }
        catch (ObjectTooLargeException ex)
        {
            return Problems.TooLarge($"The object is larger than the {ex.MaxSize} bytes allowed.");
        }
        catch (Grains.Ledger.StorageOwedException ex)
        {
            return Results.Problem(
                detail: ex.Message,
                statusCode: StatusCodes.Status402PaymentRequired,
                title: "Storage charges owed",
                extensions: new Dictionary<string, object?> { ["account"] = ex.Account.Account, ["balance"] = ex.Account.Balance, ["storageOwed"] = ex.Account.StorageOwed });
        }
        catch (InsufficientShardNodesException ex)
        {
            return Problems.Unavailable(ex.Message);
        }
        catch (ObjectCorruptException) when (caller.SignedContentSha256 is not null && !cancellationToken.IsCancellationRequested)
        {
            // The writer compared the bytes with the signed hash before committing; its shards are gone.
            return RequestSigning.Unauthorized(RequestSigning.BodyMismatch, $"The body does not hash to the signed {RequestSignature.ContentSha256Header} ({caller.SignedContentSha256}); nothing was stored.");
        }
        catch (ShardNodeUnavailableException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // A shard's node went away and so did the one it was retried on: the cluster's fault, not the client's.
            LogPutFailed(loggers.CreateLogger(typeof(ObjectEndpoints)), key.GrainKey, ex);
            context.Response.Headers.RetryAfter = ClusterUnavailableHandler.RetryAfterSeconds;
            return Problems.Unavailable($"The upload could not be stored; nothing was committed: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            // The upload was cut off or broke: nothing was committed and the written shards are gone.
            LogPutFailed(loggers.CreateLogger(typeof(ObjectEndpoints)), key.GrainKey, ex);
            return Problems.BadRequest($"The upload did not complete: {ex.Message}");
        }
    }

    private static async Task<IResult> GetAsync(HttpContext context, ObjectService objects, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!ObjectAddress.TryRead(context, out var key, out var error))
        {
            return Problems.BadRequest(error);
        }

        StoredObject version;
        try
        {
            version = await objects.GetReadableAsync(key, Accounts.Of(context));
        }
        catch (ObjectPolicyException ex)
        {
            return Problems.Refused(ex.Decision);
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }

        if (context.Request.Query.ContainsKey("health"))
        {
            var health = await objects.HealthAsync(version, cancellationToken);
            return Results.Ok(HealthView.From(key, health));
        }

        var manifest = version.Manifest;
        var response = context.Response;
        response.ContentType = manifest.ContentType;
        response.Headers.ETag = $"\"{manifest.Sha256}\"";
        response.Headers.AcceptRanges = "bytes";
        response.Headers["X-Xmbl-Sha256"] = manifest.Sha256;
        response.Headers.LastModified = manifest.CreatedUtc.ToString("R");

        long offset = 0, length = manifest.Size;
        var range = context.Request.GetTypedHeaders().Range;
        if (range is { Ranges.Count: 1 } && string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase))
        {
            var r = range.Ranges.First();
            if (!TryResolveRange(r, manifest.Size, out offset, out length))
            {
                response.Headers.ContentRange = $"bytes */{manifest.Size}";
                return Problems.RangeNotSatisfiable($"The object has {manifest.Size} bytes.");
            }

            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + length - 1, manifest.Size).ToString();
        }

        response.ContentLength = length;
        if (HttpMethods.IsHead(context.Request.Method) || length == 0)
        {
            return Results.Empty;
        }

        try
        {
            await objects.ReadAsync(version, response.Body, offset, length, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException && !cancellationToken.IsCancellationRequested)
        {
            LogGetFailed(loggers.CreateLogger(typeof(ObjectEndpoints)), key.GrainKey, ex);
            if (!response.HasStarted)
            {
                response.ContentLength = null;
                response.Headers.ContentRange = default;
                return Problems.Unavailable($"Object {key} cannot be read now: {ex.Message}");
            }

            // Headers are gone: cut the connection so the client sees a truncated body, never a wrong complete one.
            context.Abort();
        }

        return Results.Empty;
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, ObjectService objects, CancellationToken cancellationToken)
    {
        if (!ObjectAddress.TryRead(context, out var key, out var error))
        {
            return Problems.BadRequest(error);
        }

        try
        {
            await objects.DeleteAsync(key, Accounts.Of(context), cancellationToken);
            return Results.NoContent();
        }
        catch (ObjectPolicyException ex)
        {
            return Problems.Refused(ex.Decision);
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task<IResult> ListAsync(string ns, string? prefix, string? after, string? limit, HttpContext context, ObjectService objects, CancellationToken cancellationToken)
    {
        if (!Problems.TryPageSize(context, limit, out var take, out var badLimit))
        {
            return badLimit;
        }

        try
        {
            var (items, next) = await objects.ListAsync(ns, Accounts.Of(context), prefix, after, take, cancellationToken);
            return Results.Ok(new ObjectListView([.. items.Select(ObjectView.From)], next));
        }
        catch (ObjectPolicyException ex)
        {
            return Problems.Refused(ex.Decision);
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task<IResult> UsageAsync(string? account, string? @namespace, ObjectService objects)
    {
        if ((account is null) == (@namespace is null))
        {
            return Problems.BadRequest("Name exactly one of ?account= or ?namespace=.");
        }

        if (account is not null && !Accounts.IsValid(account))
        {
            return Problems.BadRequest($"account is not a valid account: use {Accounts.Syntax}.");
        }

        if (@namespace is not null && !ObjectKey.IsValidNamespace(@namespace))
        {
            return Problems.BadRequest($"Namespace '{@namespace}' is not valid.");
        }

        var key = account is not null ? StorageUsageGrain.AccountKey(account) : StorageUsageGrain.NamespaceKey(@namespace!);
        return Results.Ok(await objects.UsageAsync(key));
    }

    private static async Task<IResult> RepairAsync(HttpContext context, NodeControl control, CancellationToken cancellationToken)
    {
        try
        {
            return Results.Ok(await control.RepairAsync(Accounts.CallerOf(context), cancellationToken));
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static bool TryResolveRange(RangeItemHeaderValue range, long size, out long offset, out long length)
    {
        offset = 0;
        length = 0;
        if (range.From is { } from)
        {
            if (from >= size)
            {
                return false;
            }

            var to = Math.Min(range.To ?? size - 1, size - 1);
            offset = from;
            length = to - from + 1;
            return length > 0;
        }

        if (range.To is { } suffix && suffix > 0 && size > 0)
        {
            length = Math.Min(suffix, size);
            offset = size - length;
            return true;
        }

        return false;
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "Upload of {Object} failed; nothing was committed")]
    private static partial void LogPutFailed(ILogger logger, string @object, Exception exception);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Read of {Object} failed")]
    private static partial void LogGetFailed(ILogger logger, string @object, Exception exception);
}

/// <summary>An object as the API shows it.</summary>
internal sealed record ObjectView(
    string Namespace,
    string Name,
    long Size,
    string ContentType,
    string Sha256,
    string VersionId,
    string Owner,
    int DataShards,
    int ParityShards,
    int Stripes,
    DateTimeOffset Created)
{
    public static ObjectView From(StoredObject version)
    {
        var m = version.Manifest;
        return new ObjectView(m.Namespace, m.Name, m.Size, m.ContentType, m.Sha256, version.VersionId, version.Owner, m.DataShards, m.ParityShards, m.Stripes.Count, m.CreatedUtc);
    }
}

/// <summary>A page of a listing; <c>next</c> is the <c>after</c> value of the next page, or null at the end.</summary>
internal sealed record ObjectListView(IReadOnlyList<ObjectView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Next);

/// <summary>An object's shard health.</summary>
internal sealed record HealthView(string Object, long HealthyShards, long TotalShards, bool FullyHealthy, bool Readable, IReadOnlyList<StripeHealth> Stripes)
{
    public static HealthView From(ObjectKey key, ObjectHealth health) =>
        new(key.GrainKey, health.HealthyShards, health.TotalShards, health.IsFullyHealthy, health.IsReadable, health.Stripes);
}
