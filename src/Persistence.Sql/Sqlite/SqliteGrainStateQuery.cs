using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Persistence.Sql.Internal;

namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>
/// <see cref="IGrainStateQuery"/> over <see cref="SqliteGrainStorage"/>'s table (<c>xmbl_grain_state</c>). Reads run
/// on their own pooled connections: in WAL mode they see the last committed state and never block the writer.
/// </summary>
public sealed class SqliteGrainStateQuery : IGrainStateQuery
{
    private const string GetSql =
        "SELECT version, payload, updated_at FROM xmbl_grain_state WHERE state_name = $s AND grain_key = $k AND payload IS NOT NULL";

    private const string ListSqlStart =
        "SELECT grain_key, version, payload, updated_at FROM xmbl_grain_state WHERE state_name = $s AND payload IS NOT NULL";

    private readonly string _connectionString;
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates the query.</summary>
    /// <param name="connectionString">The SQLite file of the storage (<c>Data Source=path</c>).</param>
    /// <param name="serializerOptions">The JSON options the states were written with; null is <see cref="GrainStateJsonSerializer.DefaultOptions"/>.</param>
    public SqliteGrainStateQuery(string connectionString, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString();
        _options = serializerOptions ?? GrainStateJsonSerializer.DefaultOptions;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<GrainStateEntry<TState>>> ListAsync<TState>(string stateName, string? keyPrefix, string? afterKey, int limit, CancellationToken ct = default)
    {
        GrainKeyRange.Validate(stateName, limit);
        ct.ThrowIfCancellationRequested();
        var range = GrainKeyRange.From(keyPrefix, afterKey);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = ListSqlStart + range.Conditions("grain_key {op} $lo", "grain_key < $hi", "substr(grain_key, 1, length($p)) = $p") + " ORDER BY grain_key LIMIT $n";
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$lo", (object?)range.Lower ?? DBNull.Value);
        command.Parameters.AddWithValue("$hi", (object?)range.Upper ?? DBNull.Value);
        command.Parameters.AddWithValue("$p", (object?)range.Prefix ?? DBNull.Value);
        command.Parameters.AddWithValue("$n", limit);
        using var reader = command.ExecuteReader();
        var entries = new List<GrainStateEntry<TState>>();
        while (reader.Read())
        {
            var key = reader.GetString(0);
            var state = StateDeserializer.Deserialize<TState>(reader.GetFieldValue<byte[]>(2), _options, stateName, key);
            entries.Add(new GrainStateEntry<TState>(key, reader.GetInt64(1), state, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return Task.FromResult<IReadOnlyList<GrainStateEntry<TState>>>(entries);
    }

    /// <inheritdoc/>
    public Task<GrainStateEntry<TState>?> GetAsync<TState>(string stateName, string key, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentNullException.ThrowIfNull(key);
        ct.ThrowIfCancellationRequested();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = GetSql;
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$k", key);
        using var reader = command.ExecuteReader();
        GrainStateEntry<TState>? entry = reader.Read()
            ? new(key, reader.GetInt64(0), StateDeserializer.Deserialize<TState>(reader.GetFieldValue<byte[]>(1), _options, stateName, key), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)))
            : null;
        return Task.FromResult(entry);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
