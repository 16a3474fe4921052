namespace Xmbl.Cluster.Grains.Services;

/// <summary>The service library's options, bound from <c>Xmbl:Services</c>.</summary>
public sealed class ServiceLibraryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Xmbl:Services";

    /// <summary>Publishers the operator trusts outright (did:key), besides the silo's operator.</summary>
    public IList<string> TrustedPublishers { get; } = [];

    /// <summary>Endorsements by other publishers that make a publisher trusted (<c>EndorsementsForTrusted</c>, default 2).</summary>
    public int EndorsementsForTrusted { get; set; } = Xmbl.Cluster.Services.TrustPolicy.DefaultEndorsementsForTrusted;

    /// <summary>The most entries <c>GET /api/services</c> returns at once (<c>MaxQueryResults</c>, default 100).</summary>
    public int MaxQueryResults { get; set; } = 100;
}
