namespace Xmbl.Cluster.Persistence.Sql.Internal;

/// <summary>
/// The key range of a listing (a prefix and/or the key after which to continue) as plain bounds, so the database seeks
/// into its index instead of filtering every row of the state name.
/// </summary>
/// <remarks>
/// Both backends order keys by their UTF-8 bytes (SQLite's BINARY collation, PostgreSQL's "C"), so every key that
/// starts with a prefix sorts before the prefix followed by U+10FFFF, the largest code point. The prefix test itself
/// stays in the query for exactness: no pattern syntax, so <c>%</c> and <c>_</c> in a prefix are plain characters.
/// </remarks>
internal readonly record struct GrainKeyRange(string? Lower, bool LowerInclusive, string? Upper, string? Prefix)
{
    /// <summary>Largest allowed page size of a listing.</summary>
    public const int MaxLimit = 10_000;

    private const string MaxCodePoint = "\U0010FFFF";

    public static GrainKeyRange From(string? keyPrefix, string? afterKey)
    {
        var prefix = string.IsNullOrEmpty(keyPrefix) ? null : keyPrefix;
        if (prefix is null)
        {
            return new GrainKeyRange(afterKey, false, null, null);
        }

        // The tighter lower bound: continuing inside the prefix, or starting at the prefix.
        return afterKey is not null && string.CompareOrdinal(afterKey, prefix) >= 0
            ? new GrainKeyRange(afterKey, false, prefix + MaxCodePoint, prefix)
            : new GrainKeyRange(prefix, true, prefix + MaxCodePoint, prefix);
    }

    /// <summary>
    /// The WHERE conditions for this range (each starting with " AND "), only those that apply: an
    /// <c>($a IS NULL OR key &gt; $a)</c> form cannot be used for an index seek.
    /// </summary>
    public string Conditions(string lowerBound, string upperBound, string prefixTest)
    {
        var sql = "";
        if (Lower is not null)
        {
            sql += LowerInclusive ? $" AND {lowerBound.Replace("{op}", ">=", StringComparison.Ordinal)}" : $" AND {lowerBound.Replace("{op}", ">", StringComparison.Ordinal)}";
        }

        if (Upper is not null)
        {
            // The upper bound ends the seek; the prefix test keeps it exact.
            sql += $" AND {upperBound} AND {prefixTest}";
        }

        return sql;
    }

    /// <summary>Checks the arguments common to both backends' listings.</summary>
    public static void Validate(string stateName, int limit)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
    }
}
