namespace Xmbl.Cluster.Storage.Policies;

/// <summary>The kind of a policy decision.</summary>
public enum PolicyOutcome
{
    /// <summary>Go ahead.</summary>
    Allow = 0,

    /// <summary>Refused (HTTP 403): no access, operation not allowed, type not allowed, or quota exceeded.</summary>
    Deny = 1,

    /// <summary>The object is larger than allowed (HTTP 413).</summary>
    TooLarge = 2,
}

/// <summary>The answer to a <see cref="StorageAccessRequest"/>.</summary>
/// <param name="Outcome">Allow, deny or too large.</param>
/// <param name="Reason">Why, for the response body; empty when allowed.</param>
public sealed record PolicyDecision(PolicyOutcome Outcome, string Reason)
{
    /// <summary>The maximum size the write may reach (enforce while streaming when the size was not declared).</summary>
    public long MaxObjectSize { get; init; } = long.MaxValue;

    /// <summary>The coding the namespace asks for; null for the defaults.</summary>
    public CodingPolicy? Coding { get; init; }

    /// <summary>Whether the operation may go ahead.</summary>
    public bool IsAllowed => Outcome == PolicyOutcome.Allow;

    /// <summary>The HTTP status to answer with when refused: 403 or 413 (200 when allowed).</summary>
    public int StatusCode => Outcome switch
    {
        PolicyOutcome.Allow => 200,
        PolicyOutcome.TooLarge => 413,
        _ => 403,
    };

    internal static PolicyDecision Deny(string reason) => new(PolicyOutcome.Deny, reason);
}
