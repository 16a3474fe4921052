using System.Buffers;
using System.Collections.Concurrent;

namespace Xmbl.Cluster.Identity.Requests;

/// <summary>
/// Checks a signed request (<see cref="RequestSignature"/>): every header present and well formed, the timestamp
/// within the clock-skew window, the signature valid for the signer's key over the canonical bytes, and the nonce
/// never seen before. Thread-safe; one instance per gateway.
/// </summary>
/// <remarks>The body is not read here: the caller checks that it hashes to the signed <c>X-Xmbl-Content-Sha256</c>.</remarks>
public sealed class RequestVerifier
{
    // did:key parsing costs a base58 decode and a point check; a busy client sends many requests.
    private const int IdentityCacheSize = 10_000;

    // "did:key:z" and the base58 of 34 bytes (at most 47 characters).
    private const int MaxDidLength = 64;

    private readonly ConcurrentDictionary<string, PublicIdentity> _identities = new(StringComparer.Ordinal);
    private readonly ReplayGuard _replays;
    private readonly TimeProvider _time;
    private readonly long _skewMs;

    /// <summary>Creates a verifier.</summary>
    /// <param name="maxClockSkew">How far a timestamp may be before or after the verifier's clock.</param>
    /// <param name="replayCacheEntries">The most nonces remembered (see <see cref="ReplayGuard"/>).</param>
    /// <param name="time">The clock; the system clock when null.</param>
    public RequestVerifier(TimeSpan maxClockSkew, int replayCacheEntries, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxClockSkew, TimeSpan.Zero);
        MaxClockSkew = maxClockSkew;
        _skewMs = (long)maxClockSkew.TotalMilliseconds;
        _replays = new ReplayGuard(replayCacheEntries, maxClockSkew);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How far a timestamp may be from the verifier's clock.</summary>
    public TimeSpan MaxClockSkew { get; }

    /// <summary>Nonces remembered now.</summary>
    public int RememberedNonces => _replays.Count;

    /// <summary>Whether a request carries any of the signature headers (a request with some but not all is malformed, not unsigned).</summary>
    public static bool IsSigned(in SignedRequestHeaders headers) =>
        headers.Identity is not null || headers.Timestamp is not null || headers.Nonce is not null || headers.ContentSha256 is not null || headers.Signature is not null;

    /// <summary>Checks a request; the nonce is remembered only when everything else holds.</summary>
    /// <param name="method">The HTTP method as received.</param>
    /// <param name="target">The request target as received (path and query).</param>
    /// <param name="headers">The signature headers, null where absent.</param>
    public SignatureCheck Verify(string method, string target, in SignedRequestHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        if (Missing(headers) is { } missing)
        {
            return SignatureCheck.Fail(SignatureFailure.Missing, $"{missing} is missing: a request that changes something must be signed (see docs/api.md, Signed requests).");
        }

        if (!TryIdentity(headers.Identity!, out var signer))
        {
            return SignatureCheck.Fail(SignatureFailure.Malformed, $"{RequestSignature.IdentityHeader} is not the did:key of a valid Ed25519 key.");
        }

        if (!RequestSignature.TryParseTimestamp(headers.Timestamp, out var timestamp))
        {
            return SignatureCheck.Fail(SignatureFailure.Malformed, $"{RequestSignature.TimestampHeader} must be Unix milliseconds (1-15 digits).");
        }

        if (!RequestSignature.IsValidNonce(headers.Nonce))
        {
            return SignatureCheck.Fail(SignatureFailure.Malformed, $"{RequestSignature.NonceHeader} must be {RequestSignature.MinNonceLength}-{RequestSignature.MaxNonceLength} characters of A-Z, a-z, 0-9, '_' or '-'.");
        }

        if (!RequestSignature.IsValidContentSha256(headers.ContentSha256))
        {
            return SignatureCheck.Fail(SignatureFailure.Malformed, $"{RequestSignature.ContentSha256Header} must be the body's SHA-256 as 64 lower-case hex digits.");
        }

        Span<byte> signature = stackalloc byte[Ed25519KeyPair.SignatureLength];
        if (headers.Signature!.Length != Ed25519KeyPair.SignatureLength * 2
            || Convert.FromHexString(headers.Signature, signature, out _, out var written) != OperationStatus.Done
            || written != Ed25519KeyPair.SignatureLength)
        {
            return SignatureCheck.Fail(SignatureFailure.Malformed, $"{RequestSignature.SignatureHeader} must be an Ed25519 signature: {Ed25519KeyPair.SignatureLength * 2} hex digits.");
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (timestamp < now - _skewMs)
        {
            return SignatureCheck.Fail(SignatureFailure.Stale, $"{RequestSignature.TimestampHeader} is {(now - timestamp) / 1000.0:0.#} s old; requests are accepted up to {MaxClockSkew.TotalSeconds:0.#} s either side of the gateway's clock.");
        }

        if (timestamp > now + _skewMs)
        {
            return SignatureCheck.Fail(SignatureFailure.Future, $"{RequestSignature.TimestampHeader} is {(timestamp - now) / 1000.0:0.#} s in the future; requests are accepted up to {MaxClockSkew.TotalSeconds:0.#} s either side of the gateway's clock.");
        }

        if (!RequestSignature.IsSignableTarget(method, target))
        {
            return SignatureCheck.Fail(SignatureFailure.Malformed, "The request target cannot be signed: it must be origin-form (/path?query) of visible ASCII, at most 8192 characters.");
        }

        var length = RequestSignature.CanonicalLength(method, target, headers.ContentSha256!, headers.Identity!, headers.Timestamp!, headers.Nonce!);
        var rented = length > 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            var canonical = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
            RequestSignature.WriteCanonical(canonical, method, target, headers.ContentSha256!, headers.Identity!, headers.Timestamp!, headers.Nonce!);
            if (!signer.Verify(canonical, signature))
            {
                return SignatureCheck.Fail(SignatureFailure.Forged, $"{RequestSignature.SignatureHeader} does not verify: it was not made by {signer.Did} over this method, target, body hash, timestamp and nonce.");
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return _replays.TryAccept(signer.Did, headers.Nonce!, timestamp, now) switch
        {
            ReplayOutcome.Accepted => SignatureCheck.Accept(signer),
            ReplayOutcome.Replayed => SignatureCheck.Fail(SignatureFailure.Replayed, $"{RequestSignature.NonceHeader} was already used by {signer.Did}: a signed request is accepted once."),
            _ => SignatureCheck.Fail(SignatureFailure.Stale, $"{RequestSignature.TimestampHeader} is older than the window the gateway can still check for replays (its nonce cache is full); sign the request again."),
        };
    }

    private static string? Missing(in SignedRequestHeaders h) =>
        h.Signature is null ? RequestSignature.SignatureHeader
        : h.Identity is null ? RequestSignature.IdentityHeader
        : h.Timestamp is null ? RequestSignature.TimestampHeader
        : h.Nonce is null ? RequestSignature.NonceHeader
        : h.ContentSha256 is null ? RequestSignature.ContentSha256Header
        : null;

    private bool TryIdentity(string did, out PublicIdentity identity)
    {
        if (_identities.TryGetValue(did, out identity!))
        {
            return true;
        }

        // An Ed25519 did:key is 56 characters; refusing long ones early keeps base58 decoding (quadratic) cheap.
        if (did.Length > MaxDidLength || !PublicIdentity.TryParseDid(did, out var parsed))
        {
            return false;
        }

        if (_identities.Count >= IdentityCacheSize)
        {
            _identities.Clear();
        }

        identity = _identities.GetOrAdd(did, parsed!);
        return true;
    }
}

/// <summary>The signature headers of a request, each null when absent.</summary>
/// <param name="Identity"><see cref="RequestSignature.IdentityHeader"/>.</param>
/// <param name="Timestamp"><see cref="RequestSignature.TimestampHeader"/>.</param>
/// <param name="Nonce"><see cref="RequestSignature.NonceHeader"/>.</param>
/// <param name="ContentSha256"><see cref="RequestSignature.ContentSha256Header"/>.</param>
/// <param name="Signature"><see cref="RequestSignature.SignatureHeader"/>.</param>
public readonly record struct SignedRequestHeaders(string? Identity, string? Timestamp, string? Nonce, string? ContentSha256, string? Signature);

/// <summary>Why a signed request was refused.</summary>
public enum SignatureFailure
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>A signature header is missing.</summary>
    Missing,

    /// <summary>A header does not have its syntax, or the key is not a valid Ed25519 key.</summary>
    Malformed,

    /// <summary>The timestamp is older than the window.</summary>
    Stale,

    /// <summary>The timestamp is later than the window.</summary>
    Future,

    /// <summary>The signature does not verify.</summary>
    Forged,

    /// <summary>The nonce was used before.</summary>
    Replayed,
}

/// <summary>The outcome of <see cref="RequestVerifier.Verify"/>: the signer, or why the request is refused.</summary>
/// <param name="Signer">The verified signer; null when refused.</param>
/// <param name="Failure">Why it was refused; <see cref="SignatureFailure.None"/> when accepted.</param>
/// <param name="Reason">A sentence naming the header and the reason; null when accepted.</param>
public readonly record struct SignatureCheck(PublicIdentity? Signer, SignatureFailure Failure, string? Reason)
{
    /// <summary>Whether the request was accepted.</summary>
    public bool IsValid => Failure == SignatureFailure.None;

    internal static SignatureCheck Accept(PublicIdentity signer) => new(signer, SignatureFailure.None, null);

    internal static SignatureCheck Fail(SignatureFailure failure, string reason) => new(null, failure, reason);
}
