namespace Xmbl.Cluster.Runtime.Storage;

/// <summary>
/// The key range of a listing (a prefix and/or the key after which to continue) as plain bounds, so that the database
/// seeks into its primary key instead of filtering every row of the grain type.
/// </summary>
/// <remarks>
/// Both backends order keys by their UTF-8 bytes (SQLite's BINARY collation, PostgreSQL's "C"), so every key that starts
/// with a prefix sorts before the prefix followed by U+10FFFF, the largest code point. A condition written as
/// <c>($a IS NULL OR grain_key &gt; $a)</c> cannot be used for an index seek, which made each page of a listing, and
/// each single-job read built on it, cost a scan of all earlier rows.
/// </remarks>
internal readonly record struct GrainKeyRange(string? Lower, bool LowerInclusive, string? Upper, string? Prefix)
{
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

    /// <summary>The WHERE conditions on <c>grain_key</c> after <c>grain_type = …</c>, with the given parameter names.</summary>
    public string Conditions(string lowerParameter, string upperParameter, string prefixCondition)
    {
        var sql = "";
        if (Lower is not null)
        {
            sql += LowerInclusive ? $" AND grain_key >= {lowerParameter}" : $" AND grain_key > {lowerParameter}";
        }

        if (Upper is not null)
        {
            // The upper bound ends the seek; the prefix test stays for exactness.
            sql += $" AND grain_key < {upperParameter} AND {prefixCondition}";
        }

        return sql;
    }
}
