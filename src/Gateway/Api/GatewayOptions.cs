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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
