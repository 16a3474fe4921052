using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Storage.Streams;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>The account a request acts for, set by <see cref="RequestSigning"/> before any endpoint runs.</summary>
/// <param name="Account">The signer's did:key, the operator's for a trusted loopback request, else anonymous.</param>
/// <param name="IsOperator">Whether the account is the silo's operator.</param>
/// <param name="SignedContentSha256">The body hash the signature covers; null for unsigned requests.</param>
internal sealed record Caller(string Account, bool IsOperator, string? SignedContentSha256);

/// <summary>Endpoint metadata: the endpoint checks the body against <see cref="Caller.SignedContentSha256"/> itself (object uploads, which hash as they store).</summary>
internal sealed class ChecksSignedBody
{
    public static readonly ChecksSignedBody Instance = new();
}

/// <summary>Endpoint metadata: the endpoint authenticates its callers another way (the members-only shard endpoints).</summary>
internal sealed class AuthenticatedElsewhere
{
    public static readonly AuthenticatedElsewhere Instance = new();
}

/// <summary>
/// Checks every API request's signature (docs/api.md, "Signed requests") and sets its <see cref="Caller"/>: a request
/// that changes something must be signed (401 otherwise, nothing runs); a read may be signed, to read private data.
/// </summary>
internal sealed partial class RequestSigning
{
    private readonly RequestVerifier _verifier;
    private readonly bool _trustLoopback;
    private readonly Caller _operatorUnsigned;

    public RequestSigning(IOptions<GatewayOptions> options, string operatorDid)
    {
        var o = options.Value;
        _verifier = new RequestVerifier(o.MaxClockSkew, o.ReplayCacheEntries);
        _trustLoopback = o.TrustLoopback;
        Operator = operatorDid;
        _operatorUnsigned = new Caller(operatorDid, IsOperator: true, SignedContentSha256: null);
    }

    /// <summary>The operator's did:key.</summary>
    public string Operator { get; }

    /// <summary>Creates the service: the configured operator, else the silo's own operator key (created on first start).</summary>
    public static RequestSigning Create(IServiceProvider services, string dataDirectory)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<RequestSigning>();
        string did;
        if (options.Value.Operator is { } configured)
        {
            did = PublicIdentity.ParseDid(configured).Did;
            LogOperator(logger, did, GatewayOptions.SectionName + ":" + nameof(GatewayOptions.Operator));
        }
        else
        {
            var path = Path.Combine(dataDirectory, "operator.key");
            using var key = KeyFile.LoadOrCreate(path);
            did = key.PublicKey.Did;
            LogOperator(logger, did, path);
        }

        if (options.Value.TrustLoopback)
        {
            LogTrustLoopback(logger, did);
        }

        return new RequestSigning(options, did);
    }

    /// <summary>The middleware.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<AuthenticatedElsewhere>() is not null)
        {
            await next(context);
            return;
        }

        var request = context.Request;
        if (!TryRead(request.Headers, out var headers, out var repeated))
        {
            await Refuse(context, "malformed", $"Give one {repeated} header, not several.");
            return;
        }

        Caller caller;
        if (RequestVerifier.IsSigned(headers))
        {
            var check = _verifier.Verify(request.Method, Target(context), headers);
            if (!check.IsValid)
            {
                await Refuse(context, Code(check.Failure), check.Reason!);
                return;
            }

            var did = check.Signer!.Did;
            caller = new Caller(did, string.Equals(did, Operator, StringComparison.Ordinal), headers.ContentSha256);
            var bodiless = request.ContentLength == 0 || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false };
            if (bodiless && headers.ContentSha256 != RequestSignature.EmptyBodySha256)
            {
                await Refuse(context, BodyMismatch, $"The body is empty but the signed {RequestSignature.ContentSha256Header} is not the hash of no bytes; nothing was done.");
                return;
            }

            if (!bodiless && endpoint.Metadata.GetMetadata<ChecksSignedBody>() is null)
            {
                var checkedBody = new SignedBodyStream(request.Body, headers.ContentSha256!, request.ContentLength);
                context.Response.RegisterForDispose(checkedBody);
                request.Body = checkedBody;
            }
        }
        else if (_trustLoopback && context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote))
        {
            caller = _operatorUnsigned;
        }
        else if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            caller = Anonymous;
        }
        else
        {
            await Refuse(context, "missing", _verifier.Verify(request.Method, Target(context), default).Reason!);
            return;
        }

        context.Features.Set(caller);
        try
        {
            await next(context);
        }
        catch (SignedBodyMismatchException ex) when (!context.Response.HasStarted)
        {
            await Refuse(context, BodyMismatch, ex.Message);
        }
    }

    /// <summary>
    /// Checks a gRPC call (docs/api.md, "Signed gRPC calls") with the same verifier, replay cache and loopback rule as
    /// REST: the canonical bytes take method <c>POST</c>, <paramref name="target"/> and the signed content hash, which
    /// must equal <paramref name="contentSha256"/> (the request message's hash) when that is given.
    /// </summary>
    /// <param name="target">The call's path, <c>/xmbl.v1.Service/Method</c> (PutObject adds the object's address).</param>
    /// <param name="metadata">The call's headers (gRPC metadata).</param>
    /// <param name="remote">The client's address.</param>
    /// <param name="changes">Whether the call changes something (then it must be signed).</param>
    /// <param name="contentSha256">The hash of what was received, or null when the caller checks it later (uploads).</param>
    internal CallCheck CheckCall(string target, IHeaderDictionary metadata, IPAddress? remote, bool changes, string? contentSha256)
    {
        if (!TryRead(metadata, out var headers, out var repeated))
        {
            return new(null, "malformed", $"Give one {repeated} header, not several.");
        }

        if (RequestVerifier.IsSigned(headers))
        {
            var check = _verifier.Verify(HttpMethods.Post, target, headers);
            if (!check.IsValid)
            {
                return new(null, Code(check.Failure), check.Reason!);
            }

            if (contentSha256 is not null && !string.Equals(contentSha256, headers.ContentSha256, StringComparison.Ordinal))
            {
                return new(null, BodyMismatch, $"The request message does not hash to the signed {RequestSignature.ContentSha256Header} ({headers.ContentSha256}); nothing was done.");
            }

            var did = check.Signer!.Did;
            return new(new Caller(did, string.Equals(did, Operator, StringComparison.Ordinal), headers.ContentSha256), null, null);
        }

        if (_trustLoopback && remote is not null && IPAddress.IsLoopback(remote))
        {
            return new(_operatorUnsigned, null, null);
        }

        return changes
            ? new(null, "missing", _verifier.Verify(HttpMethods.Post, target, default).Reason!)
            : new(Anonymous, null, null);
    }

    /// <summary>The <c>reason</c> of a refused upload whose bytes differ from the signed hash.</summary>
    public const string BodyMismatch = "body-mismatch";

    /// <summary>The caller of a request without signature that changes nothing.</summary>
    public static readonly Caller Anonymous = new(Grains.Objects.ObjectService.AnonymousAccount, IsOperator: false, SignedContentSha256: null);

    /// <summary>401 problem+json: <c>detail</c> says why, <c>reason</c> is a stable code.</summary>
    public static IResult Unauthorized(string reason, string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", extensions: new Dictionary<string, object?> { ["reason"] = reason });

    private static Task Refuse(HttpContext context, string reason, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Xmbl-Ed25519";
        return Unauthorized(reason, detail).ExecuteAsync(context);
    }

    // The target as the client sent it: the decoded path has lost escapes and dot segments the signature covers.
    private static string Target(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.PathBase + context.Request.Path + context.Request.QueryString;

    private static bool TryRead(IHeaderDictionary h, out SignedRequestHeaders headers, out string? repeated)
    {
        headers = default;
        repeated = null;
        var identity = One(h, RequestSignature.IdentityHeader, ref repeated);
        var timestamp = One(h, RequestSignature.TimestampHeader, ref repeated);
        var nonce = One(h, RequestSignature.NonceHeader, ref repeated);
        var hash = One(h, RequestSignature.ContentSha256Header, ref repeated);
        var signature = One(h, RequestSignature.SignatureHeader, ref repeated);
        headers = new SignedRequestHeaders(identity, timestamp, nonce, hash, signature);
        return repeated is null;
    }

    private static string? One(IHeaderDictionary headers, string name, ref string? repeated)
    {
        var values = headers[name];
        if (values.Count > 1)
        {
            repeated ??= name;
        }

        return values.Count == 1 ? values[0] : null;
    }

    private static string Code(SignatureFailure failure) => failure switch
    {
        SignatureFailure.Missing => "missing",
        SignatureFailure.Malformed => "malformed",
        SignatureFailure.Stale => "stale",
        SignatureFailure.Future => "future",
        SignatureFailure.Forged => "bad-signature",
        SignatureFailure.Replayed => "replayed",
        _ => "refused",
    };

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Operator identity {Did} (from {Source}): the only account that may stop and start this silo's nodes and run repair")]
    private static partial void LogOperator(ILogger logger, string did, string source);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Trusting loopback: unsigned requests from this machine act as the operator {Did}. For development only")]
    private static partial void LogTrustLoopback(ILogger logger, string did);
}

/// <summary>A gRPC call's signature check: the caller, or why it is refused (<paramref name="Reason"/> is the stable code).</summary>
internal readonly record struct CallCheck(Caller? Caller, string? Reason, string? Detail);

/// <summary>The body did not hash to the signed <c>X-Xmbl-Content-Sha256</c>.</summary>
internal sealed class SignedBodyMismatchException(string message) : Exception(message);

/// <summary>
/// Passes the body through while hashing it, and throws <see cref="SignedBodyMismatchException"/> as the last byte is
/// read (at the declared length or at the end) if the bytes differ from the signed hash, before the endpoint acts on them.
/// </summary>
internal sealed class SignedBodyStream(Stream inner, string expected, long? declaredLength) : ForwardReadStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _checked;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer) => Seen(buffer, inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Seen(buffer.Span, read);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Seen(Span<byte> buffer, int read)
    {
        if (_checked)
        {
            return read;
        }

        _hash.AppendData(buffer[..read]);
        _read += read;
        if ((read == 0 && buffer.Length > 0) || _read == declaredLength)
        {
            _checked = true;
            Span<byte> actual = stackalloc byte[32];
            _hash.GetHashAndReset(actual);
            if (!string.Equals(Convert.ToHexStringLower(actual), expected, StringComparison.Ordinal))
            {
                throw new SignedBodyMismatchException($"The body does not hash to the signed {RequestSignature.ContentSha256Header} ({expected}); nothing was done.");
            }
        }

        return read;
    }
}
