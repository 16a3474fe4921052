namespace Xmbl.Cluster.Persistence.Sql.Options;

/// <summary>Checks <see cref="SchemaMigrationOptions"/> before a migration touches the database.</summary>
public static class SchemaMigrationOptionsValidator
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the setting and the fix when the options are unusable.</summary>
    public static void Validate(SchemaMigrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Dialect))
        {
            throw new ArgumentException($"{nameof(SchemaMigrationOptions.Dialect)} {(int)options.Dialect} is not a known dialect; use {nameof(SqlDialect.PostgreSql)} or {nameof(SqlDialect.Sqlite)}.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException($"{nameof(SchemaMigrationOptions.ConnectionString)} is empty; set the database connection string.", nameof(options));
        }

        if (options.CommandTimeoutSeconds is < 1 or > 3600)
        {
            throw new ArgumentException($"{nameof(SchemaMigrationOptions.CommandTimeoutSeconds)} must be between 1 and 3600 (was {options.CommandTimeoutSeconds}).", nameof(options));
        }
    }
}
