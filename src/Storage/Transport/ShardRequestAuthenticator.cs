using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>Signs and checks member-to-member shard requests: HMAC-SHA256 under the cluster secret over method, path, timestamp and nonce.</summary>
/// <remarks>
/// The signed string is <c>"xmbl-shard-v1\n" + METHOD + "\n" + path + "\n" + unix seconds + "\n" + nonce</c>. A request
/// is accepted when the signature matches, the timestamp is within the allowed clock skew and the nonce has not been
/// seen within that window (so a captured request cannot be replayed). Bodies are not signed: shard bodies carry
/// their SHA-256, which the receiving store checks.
/// </remarks>
public sealed class ShardRequestAuthenticator
{
    /// <summary>The header carrying the request time in Unix seconds.</summary>
    public const string TimestampHeader = "X-Xmbl-Timestamp";

    /// <summary>The header carrying a random single-use value.</summary>
    public const string NonceHeader = "X-Xmbl-Nonce";

    /// <summary>The header carrying the Base64 HMAC-SHA256 signature.</summary>
    public const string SignatureHeader = "X-Xmbl-Signature";

    private const int MaxSeenNonces = 1_000_000;

    private readonly byte[] _key;
    private readonly TimeSpan _maxSkew;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, long> _seenNonces = new(StringComparer.Ordinal);
    private long _nextPruneSeconds;

    /// <summary>Creates an authenticator for <paramref name="options"/>.</summary>
    public ShardRequestAuthenticator(ShardTransportOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ClusterSecret.Length < ShardTransportOptions.MinSecretLength)
        {
            throw new ArgumentException($"{ShardTransportOptions.SectionName}:ClusterSecret must be at least {ShardTransportOptions.MinSecretLength} characters.", nameof(options));
        }

        _key = Encoding.UTF8.GetBytes(options.ClusterSecret);
        _maxSkew = options.MaxClockSkew;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Adds the timestamp, nonce and signature headers to <paramref name="request"/>.</summary>
    public void Sign(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.RequestUri);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var signature = Compute(request.Method.Method, request.RequestUri.AbsolutePath, timestamp, nonce);
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(NonceHeader, nonce);
        request.Headers.Add(SignatureHeader, signature);
    }

    /// <summary>Checks the signature headers of an incoming request.</summary>
    /// <param name="request">The request.</param>
    /// <param name="failure">Why it was refused, when it was.</param>
    /// <returns>True when the request comes from a member holding the cluster secret.</returns>
    public bool TryValidate(HttpRequest request, out string failure)
    {
        ArgumentNullException.ThrowIfNull(request);
        var timestamp = request.Headers[TimestampHeader].ToString();
        var nonce = request.Headers[NonceHeader].ToString();
        var signature = request.Headers[SignatureHeader].ToString();
        if (timestamp.Length == 0 || nonce.Length is < 16 or > 128 || signature.Length == 0)
        {
            failure = "missing signature headers";
            return false;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            failure = "malformed timestamp";
            return false;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - seconds) > (long)_maxSkew.TotalSeconds)
        {
            failure = "stale or future timestamp";
            return false;
        }

        Span<byte> given = stackalloc byte[64];
        var expected = Convert.FromBase64String(Compute(request.Method, request.PathBase.Add(request.Path).Value ?? "", timestamp, nonce));
        if (!Convert.TryFromBase64String(signature, given, out var written) || written != expected.Length
            || !CryptographicOperations.FixedTimeEquals(given[..written], expected))
        {
            failure = "bad signature";
            return false;
        }

        PruneNonces(now);
        if (_seenNonces.Count >= MaxSeenNonces || !_seenNonces.TryAdd(nonce, seconds))
        {
            failure = "replayed nonce";
            return false;
        }

        failure = "";
        return true;
    }

    private string Compute(string method, string path, string timestamp, string nonce)
    {
        var message = Encoding.UTF8.GetBytes($"xmbl-shard-v1\n{method.ToUpperInvariant()}\n{path}\n{timestamp}\n{nonce}");
        return Convert.ToBase64String(HMACSHA256.HashData(_key, message));
    }

    private void PruneNonces(long now)
    {
        var next = Interlocked.Read(ref _nextPruneSeconds);
        if (now < next || Interlocked.CompareExchange(ref _nextPruneSeconds, now + 30, next) != next)
        {
            return;
        }

        // A nonce older than the skew window cannot be replayed anyway: its timestamp is refused.
        var cutoff = now - (long)_maxSkew.TotalSeconds - 1;
        foreach (var (nonce, seconds) in _seenNonces)
        {
            if (seconds < cutoff)
            {
                _seenNonces.TryRemove(nonce, out _);
            }
        }
    }
}
