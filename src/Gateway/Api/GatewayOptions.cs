using Microsoft.Extensions.Options;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>Who the gateway lets act: section <c>Xmbl:Gateway</c> (docs/api.md, "Signed requests").</summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Gateway";

    /// <summary>The default clock-skew window.</summary>
    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>The default number of nonces remembered.</summary>
    public const int DefaultReplayCacheEntries = 100_000;

    /// <summary>
    /// The operator's did:key: the only account that may stop and start this silo's nodes and run repair. When unset,
    /// the silo's own operator key (<c>DATA/operator.key</c>, created on first start) is the operator.
    /// </summary>
    public string? Operator { get; set; }

    /// <summary>Accept unsigned requests from loopback clients, acting as the operator (development only). Off by default.</summary>
    public bool TrustLoopback { get; set; }

    /// <summary>How far a request's timestamp may be before or after the gateway's clock.</summary>
    public TimeSpan MaxClockSkew { get; set; } = DefaultMaxClockSkew;

    /// <summary>The most nonces remembered against replays; when full, the accepted window narrows (never a replay).</summary>
    public int ReplayCacheEntries { get; set; } = DefaultReplayCacheEntries;

    /// <summary>
    /// The largest body of a request to an endpoint that sets no limit of its own (jobs, modules and objects do): the
    /// operator and cancel calls take none, so a small cap only stops a client from streaming junk at them.
    /// </summary>
    public int MaxRequestBodyBytes { get; set; } = 64 << 10;

    /// <summary>The page size of a listing without <c>?limit=</c>.</summary>
    public int DefaultPageSize { get; set; } = 100;

    /// <summary>The largest <c>?limit=</c> a listing accepts (400 beyond it).</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>How many final jobs' answers <c>GET /api/jobs/{id}</c> keeps in memory (0: none); see <see cref="FinalJobViews"/>.</summary>
    public int FinalJobCacheEntries { get; set; } = 4096;

    /// <summary>Per-client request rates (<c>Xmbl:Gateway:RateLimit</c>).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>
/// A token bucket per client: the signing did:key of a signed request, else the remote address (an IPv6 client by its
/// /64, which one host or home network normally owns). Health checks and the members-only shard endpoints are exempt.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Whether requests are limited at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second per client.</summary>
    public int PermitsPerSecond { get; set; } = 1000;

    /// <summary>How many requests a client may make at once above the sustained rate (the bucket's size).</summary>
    public int Burst { get; set; } = 2000;
}

/// <summary>Checks <see cref="GatewayOptions"/> at start; a bad value stops the silo naming the key.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (options.Operator is not null && !PublicIdentity.TryParseDid(options.Operator, out _))
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.Operator)} ('{options.Operator}') is not the did:key of a valid Ed25519 key.");
        }

        if (options.MaxClockSkew < TimeSpan.FromSeconds(1) || options.MaxClockSkew > TimeSpan.FromDays(1))
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.MaxClockSkew)} must be from 1 second to 1 day (got {options.MaxClockSkew}).");
        }

        if (options.ReplayCacheEntries is < 1 or > 100_000_000)
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.ReplayCacheEntries)} must be from 1 to 100000000 (got {options.ReplayCacheEntries}).");
        }

        if (options.MaxRequestBodyBytes is < 0 or > 1 << 30)
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.MaxRequestBodyBytes)} must be from 0 to 1073741824 (got {options.MaxRequestBodyBytes}).");
        }

        if (options.MaxPageSize is < 1 or > 100_000)
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.MaxPageSize)} must be from 1 to 100000 (got {options.MaxPageSize}).");
        }

        if (options.DefaultPageSize < 1 || options.DefaultPageSize > options.MaxPageSize)
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.DefaultPageSize)} must be from 1 to MaxPageSize ({options.MaxPageSize}) (got {options.DefaultPageSize}).");
        }

        if (options.FinalJobCacheEntries is < 0 or > 1_000_000)
        {
            failures.Add($"{GatewayOptions.SectionName}:{nameof(GatewayOptions.FinalJobCacheEntries)} must be from 0 to 1000000 (got {options.FinalJobCacheEntries}).");
        }

        var rate = options.RateLimit;
        if (rate.Enabled && rate.PermitsPerSecond is < 1 or > 10_000_000)
        {
            failures.Add($"{GatewayOptions.SectionName}:RateLimit:{nameof(RateLimitOptions.PermitsPerSecond)} must be from 1 to 10000000 (got {rate.PermitsPerSecond}).");
        }

        if (rate.Enabled && (rate.Burst < 1 || rate.Burst > 10_000_000))
        {
            failures.Add($"{GatewayOptions.SectionName}:RateLimit:{nameof(RateLimitOptions.Burst)} must be from 1 to 10000000 (got {rate.Burst}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
