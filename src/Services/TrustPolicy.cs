namespace Xmbl.Cluster.Services;

/// <summary>A package's trust tier, which decides the host capabilities it gets.</summary>
public enum TrustTier
{
    /// <summary>The default sandbox: WASI and the capabilities every package may have.</summary>
    Untrusted,

    /// <summary>Granted by the operator or by endorsements: every capability its manifest declares.</summary>
    Trusted,
}

/// <summary>How a publisher's tier was reached, in words a user can check.</summary>
/// <param name="Tier">The tier.</param>
/// <param name="CountedEndorsers">The endorsers that count (publishers themselves, not the publisher).</param>
/// <param name="Reason">Why, in a sentence.</param>
public sealed record TrustAssessment(TrustTier Tier, IReadOnlyList<string> CountedEndorsers, string Reason);

/// <summary>
/// The web of trust, kept simple: a publisher is <see cref="TrustTier.Trusted"/> when the operator says so, or when at
/// least <c>EndorsementsForTrusted</c> other publishers endorse it. Only endorsers who have published a package
/// themselves count, so creating keys to endorse oneself gains nothing; self-endorsement never counts.
/// </summary>
public static class TrustPolicy
{
    /// <summary>The default number of endorsements that make a publisher trusted.</summary>
    public const int DefaultEndorsementsForTrusted = 2;

    /// <summary>Assesses a publisher.</summary>
    /// <param name="publisher">The publisher's did:key.</param>
    /// <param name="endorsers">Who endorsed it.</param>
    /// <param name="isPublisher">Whether an account has published at least one package.</param>
    /// <param name="operatorTrusted">Whether the operator trusts the publisher outright.</param>
    /// <param name="endorsementsForTrusted">How many counted endorsements make it trusted.</param>
    /// <returns>The assessment.</returns>
    public static TrustAssessment Assess(string publisher, IEnumerable<string> endorsers, Func<string, bool> isPublisher, bool operatorTrusted, int endorsementsForTrusted)
    {
        ArgumentNullException.ThrowIfNull(endorsers);
        ArgumentNullException.ThrowIfNull(isPublisher);
        var counted = endorsers.Where(e => !string.Equals(e, publisher, StringComparison.Ordinal) && isPublisher(e)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (operatorTrusted)
        {
            return new TrustAssessment(TrustTier.Trusted, counted, "The operator trusts this publisher.");
        }

        return counted.Length >= endorsementsForTrusted
            ? new TrustAssessment(TrustTier.Trusted, counted, $"Endorsed by {counted.Length} publishers (trusted from {endorsementsForTrusted}).")
            : new TrustAssessment(TrustTier.Untrusted, counted, $"Endorsed by {counted.Length} publisher(s); {endorsementsForTrusted} make it trusted, or the operator can trust it.");
    }
}
