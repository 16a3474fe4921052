using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Persistence.Sql.Sqlite;

namespace Xmbl.Cluster.Persistence.Sql.Options;

/// <summary>Checks <see cref="SqliteGrainStorageOptions"/> when the silo starts (and when a storage is created).</summary>
/// <param name="options">The options.</param>
/// <param name="name">The storage provider's name, for the messages.</param>
public sealed class SqliteGrainStorageOptionsValidator(SqliteGrainStorageOptions options, string name) : IConfigurationValidator
{
    /// <inheritdoc/>
    /// <exception cref="OrleansConfigurationException">A setting is unusable; the message names it and the fix.</exception>
    public void ValidateConfiguration()
    {
        if (Check(options, name) is { } error)
        {
            throw new OrleansConfigurationException(error);
        }
    }

    /// <summary>The first problem with <paramref name="options"/>, or null when they are usable.</summary>
    public static string? Check(SqliteGrainStorageOptions options, string name)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefix = $"SQLite grain storage '{name}': {nameof(SqliteGrainStorageOptions)}.";
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return $"{prefix}{nameof(options.ConnectionString)} is empty; set it to 'Data Source=path/to/file.db'.";
        }

        try
        {
            if (string.IsNullOrWhiteSpace(new SqliteConnectionStringBuilder(options.ConnectionString).DataSource))
            {
                return $"{prefix}{nameof(options.ConnectionString)} names no file; set 'Data Source=path/to/file.db'.";
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            return $"{prefix}{nameof(options.ConnectionString)} is not a SQLite connection string ({e.Message}); use 'Data Source=path/to/file.db'.";
        }

        if (!Enum.IsDefined(options.Synchronous))
        {
            return $"{prefix}{nameof(options.Synchronous)} {(int)options.Synchronous} is not known; use {nameof(SqliteSynchronous.Normal)} or {nameof(SqliteSynchronous.Full)}.";
        }

        if (options.MaxBatchSize is < 1 or > SqliteGrainStorageOptions.MaxBatchSizeLimit)
        {
            return $"{prefix}{nameof(options.MaxBatchSize)} must be between 1 and {SqliteGrainStorageOptions.MaxBatchSizeLimit} (was {options.MaxBatchSize}).";
        }

        if (options.BusyTimeoutSeconds is < 1 or > 3600)
        {
            return $"{prefix}{nameof(options.BusyTimeoutSeconds)} must be between 1 and 3600 (was {options.BusyTimeoutSeconds}).";
        }

        return null;
    }
}
