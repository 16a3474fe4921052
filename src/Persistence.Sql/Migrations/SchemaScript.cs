namespace Xmbl.Cluster.Persistence.Sql.Migrations;

/// <summary>One versioned schema script, as embedded from <c>deploy/sql/&lt;dialect&gt;/NNNN-name.sql</c>.</summary>
/// <param name="Version">The number the file name starts with; scripts run in this order, 1, 2, 3… without gaps.</param>
/// <param name="Name">The file name without the number and extension (e.g. <c>orleans-clustering</c>).</param>
/// <param name="Text">The SQL, line endings normalized to <c>\n</c>.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of <see cref="Text"/>; recorded when applied, checked on every start.</param>
public sealed record SchemaScript(int Version, string Name, string Text, string Sha256)
{
    /// <summary>The file name, e.g. <c>0002-orleans-clustering.sql</c>.</summary>
    public string FileName => $"{Version:D4}-{Name}.sql";
}
