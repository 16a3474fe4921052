using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xmbl.Cluster.Persistence.Sql.Internal;
using Xmbl.Cluster.Persistence.Sql.Options;

namespace Xmbl.Cluster.Persistence.Sql.Migrations;

/// <summary>
/// Brings a database up to the schema embedded in this assembly: applies the scripts not yet recorded in
/// <c>xmbl_schema_version</c>, in order, in one transaction, and records each with its SHA-256.
/// </summary>
/// <remarks>
/// Safe when several silos start at once: on PostgreSQL the run holds a transaction-scoped advisory lock
/// (<see cref="AdvisoryLockKey"/>), on SQLite the write lock (<c>BEGIN IMMEDIATE</c>); the second silo waits, then
/// finds nothing to do. A recorded script whose text has changed since is refused: released scripts are never edited.
/// </remarks>
public sealed partial class SchemaMigrator
{
    /// <summary>The PostgreSQL advisory lock key held while migrating (ASCII "xmblschm").</summary>
    public const long AdvisoryLockKey = 0x786D_626C_7363_686D;

    /// <summary>The table recording applied scripts.</summary>
    public const string VersionTable = "xmbl_schema_version";

    private const string PostgresVersionTableDdl =
        "CREATE TABLE IF NOT EXISTS xmbl_schema_version (version integer NOT NULL PRIMARY KEY, name text NOT NULL, " +
        "sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

    private const string SqliteVersionTableDdl =
        "CREATE TABLE IF NOT EXISTS xmbl_schema_version (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, " +
        "sha256 TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))";

    private readonly SchemaMigrationOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a migrator; <paramref name="options"/> are validated here.</summary>
    /// <exception cref="ArgumentException">The options are unusable (the message names the setting).</exception>
    public SchemaMigrator(SchemaMigrationOptions options, ILogger<SchemaMigrator>? logger = null)
    {
        SchemaMigrationOptionsValidator.Validate(options);
        _options = options;
        _logger = logger ?? NullLogger<SchemaMigrator>.Instance;
    }

    /// <summary>Applies the pending scripts, or with <see cref="SchemaMigrationOptions.Migrate"/> off only reports them.</summary>
    /// <exception cref="SchemaMigrationException">A script failed (nothing of this run is kept), or a recorded script was edited.</exception>
    public async Task<SchemaMigrationResult> MigrateAsync(CancellationToken ct = default)
    {
        var scripts = SchemaScripts.For(_options.Dialect);
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        if (!_options.Migrate)
        {
            return await ReportAsync(connection, scripts, ct).ConfigureAwait(false);
        }

        if (_options.Dialect == SqlDialect.Sqlite)
        {
            // WAL lets readers run beside the writer; it is a property of the file and cannot change inside a transaction.
            await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL", ct).ConfigureAwait(false);
        }

        await using var transaction = await BeginAsync(connection, ct).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, _options.Dialect == SqlDialect.PostgreSql ? PostgresVersionTableDdl : SqliteVersionTableDdl, ct).ConfigureAwait(false);
        var recorded = await ReadRecordedAsync(connection, transaction, ct).ConfigureAwait(false);
        Verify(scripts, recorded);

        var applied = new List<SchemaScript>();
        foreach (var script in scripts.Where(s => !recorded.ContainsKey(s.Version)))
        {
            try
            {
                await ExecuteAsync(connection, transaction, script.Text, ct).ConfigureAwait(false);
                await RecordAsync(connection, transaction, script, ct).ConfigureAwait(false);
            }
            catch (DbException e)
            {
                throw new SchemaMigrationException($"Schema script {script.FileName} ({_options.Dialect}) failed, so no script of this run was applied: {e.Message}", e);
            }

            applied.Add(script);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
        foreach (var script in applied)
        {
            LogScriptApplied(_logger, _options.Dialect, script.FileName);
        }

        var databaseVersion = Math.Max(recorded.Count == 0 ? 0 : recorded.Keys.Max(), applied.Count == 0 ? 0 : applied[^1].Version);
        if (applied.Count == 0)
        {
            LogSchemaUpToDate(_logger, _options.Dialect, databaseVersion);
        }

        return new SchemaMigrationResult(_options.Dialect, applied, [], databaseVersion);
    }

    private async Task<SchemaMigrationResult> ReportAsync(DbConnection connection, IReadOnlyList<SchemaScript> scripts, CancellationToken ct)
    {
        var recorded = await VersionTableExistsAsync(connection, ct).ConfigureAwait(false)
            ? await ReadRecordedAsync(connection, null, ct).ConfigureAwait(false)
            : [];
        var pending = scripts.Where(s => !recorded.ContainsKey(s.Version)).ToList();
        var databaseVersion = recorded.Count == 0 ? 0 : recorded.Keys.Max();
        LogMigrationSkipped(_logger, _options.Dialect, databaseVersion, pending.Count == 0 ? "none" : string.Join(", ", pending.Select(s => s.FileName)));
        return new SchemaMigrationResult(_options.Dialect, [], pending, databaseVersion);
    }

    private void Verify(IReadOnlyList<SchemaScript> scripts, Dictionary<int, string> recorded)
    {
        var latest = scripts[^1].Version;
        foreach (var (version, sha256) in recorded)
        {
            if (version > latest)
            {
                LogDatabaseNewer(_logger, _options.Dialect, version, latest);
                continue;
            }

            var script = scripts[version - 1];
            if (!string.Equals(script.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new SchemaMigrationException(
                    $"Schema script {script.FileName} ({_options.Dialect}) differs from the one this database recorded when it was applied " +
                    $"(sha256 {sha256}, now {script.Sha256}). Released scripts must not be edited: put the change in a new script with the next number.");
            }
        }
    }

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        DbConnection connection = _options.Dialect == SqlDialect.PostgreSql
            ? new NpgsqlConnection(_options.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder(_options.ConnectionString) { DefaultTimeout = _options.CommandTimeoutSeconds }.ToString());
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<DbTransaction> BeginAsync(DbConnection connection, CancellationToken ct)
    {
        if (connection is SqliteConnection sqlite)
        {
            // deferred: false is BEGIN IMMEDIATE: the write lock now, so two migrators never both read "not applied".
            return sqlite.BeginTransaction(deferred: false);
        }

        var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        try
        {
            if (!await ScalarAsync<bool>(connection, transaction, $"SELECT pg_try_advisory_xact_lock({AdvisoryLockKey})", ct).ConfigureAwait(false))
            {
                LogWaitingForLock(_logger, AdvisoryLockKey);
                await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", ct).ConfigureAwait(false);
            }

            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<bool> VersionTableExistsAsync(DbConnection connection, CancellationToken ct) => _options.Dialect == SqlDialect.PostgreSql
        ? await ScalarAsync<bool>(connection, null, $"SELECT to_regclass('{VersionTable}') IS NOT NULL", ct).ConfigureAwait(false)
        : await ScalarAsync<long>(connection, null, $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{VersionTable}'", ct).ConfigureAwait(false) > 0;

    private async Task<Dictionary<int, string>> ReadRecordedAsync(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, $"SELECT version, sha256 FROM {VersionTable}");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var recorded = new Dictionary<int, string>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            recorded[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)] = reader.GetString(1);
        }

        return recorded;
    }

    private async Task RecordAsync(DbConnection connection, DbTransaction transaction, SchemaScript script, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, $"INSERT INTO {VersionTable} (version, name, sha256) VALUES (@version, @name, @sha256)");
        AddParameter(command, "version", script.Version);
        AddParameter(command, "name", script.Name);
        AddParameter(command, "sha256", script.Sha256);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private async Task<T> ScalarAsync<T>(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql);
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return (T)Convert.ChangeType(value!, typeof(T), CultureInfo.InvariantCulture);
    }

    private DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        return command;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    [LoggerMessage(EventId = PersistenceSqlEventId.SchemaUpToDate, Level = LogLevel.Information, Message = "{Dialect} schema is up to date at version {Version}.")]
    private static partial void LogSchemaUpToDate(ILogger logger, SqlDialect dialect, int version);

    [LoggerMessage(EventId = PersistenceSqlEventId.ScriptApplied, Level = LogLevel.Information, Message = "Applied {Dialect} schema script {Script}.")]
    private static partial void LogScriptApplied(ILogger logger, SqlDialect dialect, string script);

    [LoggerMessage(EventId = PersistenceSqlEventId.MigrationSkipped, Level = LogLevel.Warning, Message = "Schema migration is off; the {Dialect} database is at version {Version}, scripts not applied: {Pending}.")]
    private static partial void LogMigrationSkipped(ILogger logger, SqlDialect dialect, int version, string pending);

    [LoggerMessage(EventId = PersistenceSqlEventId.DatabaseNewer, Level = LogLevel.Warning, Message = "The {Dialect} database has schema version {DatabaseVersion}, newer than this build's {BuildVersion}; running on it unchanged.")]
    private static partial void LogDatabaseNewer(ILogger logger, SqlDialect dialect, int databaseVersion, int buildVersion);

    [LoggerMessage(EventId = PersistenceSqlEventId.WaitingForLock, Level = LogLevel.Information, Message = "Another process is migrating the schema (advisory lock {LockKey}); waiting for it.")]
    private static partial void LogWaitingForLock(ILogger logger, long lockKey);
}
