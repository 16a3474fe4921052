using Microsoft.Extensions.Options;

namespace Xmbl.Cluster.Storage.Options;

/// <summary>Settings of the member-to-member shard transport, bound from <c>Xmbl:Storage:Transport</c>.</summary>
public sealed class ShardTransportOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Xmbl:Storage:Transport";

    /// <summary>The shortest accepted cluster secret, in characters.</summary>
    public const int MinSecretLength = 16;

    /// <summary>The default tolerated clock difference between members: 5 minutes.</summary>
    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>The default route prefix of the shard endpoints.</summary>
    public const string DefaultRoutePrefix = "/internal/shards";

    /// <summary>The secret every cluster member shares; requests are signed with HMAC-SHA256 under it. Never logged.</summary>
    public string ClusterSecret { get; set; } = "";

    /// <summary>How far a request's timestamp may be from this member's clock. Default <see cref="DefaultMaxClockSkew"/>.</summary>
    public TimeSpan MaxClockSkew { get; set; } = DefaultMaxClockSkew;

    /// <summary>The route prefix of the shard endpoints. Default <see cref="DefaultRoutePrefix"/>.</summary>
    public string RoutePrefix { get; set; } = DefaultRoutePrefix;

    /// <summary>The base address of each member by node id (for example <c>"node-a": "http://10.0.0.5:5000"</c>).</summary>
    public IDictionary<string, string> Nodes { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Describes the options with the secret redacted.</summary>
    public override string ToString() =>
        $"ClusterSecret=<redacted {ClusterSecret.Length} chars>, MaxClockSkew={MaxClockSkew}, RoutePrefix={RoutePrefix}, Nodes={Nodes.Count}";
}

/// <summary>Checks <see cref="ShardTransportOptions"/> at startup.</summary>
public sealed class ShardTransportOptionsValidator : IValidateOptions<ShardTransportOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ShardTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string S = ShardTransportOptions.SectionName;
        var failures = new List<string>();
        if (options.ClusterSecret.Length < ShardTransportOptions.MinSecretLength)
        {
            failures.Add($"{S}:ClusterSecret is {(options.ClusterSecret.Length == 0 ? "empty" : "too short")}; set it to the same random string of at least {ShardTransportOptions.MinSecretLength} characters on every member (for example from `openssl rand -base64 32`).");
        }

        if (options.MaxClockSkew <= TimeSpan.Zero)
        {
            failures.Add($"{S}:MaxClockSkew is {options.MaxClockSkew}; set it to a positive duration such as 00:05:00.");
        }

        if (!options.RoutePrefix.StartsWith('/'))
        {
            failures.Add($"{S}:RoutePrefix '{options.RoutePrefix}' must start with '/'.");
        }

        foreach (var (node, address) in options.Nodes)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{S}:Nodes:{node} is '{address}'; set it to the member's absolute http(s) base address.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
