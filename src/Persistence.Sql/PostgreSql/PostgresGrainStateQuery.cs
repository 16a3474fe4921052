using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Xmbl.Cluster.Persistence.Sql.Internal;

namespace Xmbl.Cluster.Persistence.Sql.PostgreSql;

/// <summary>
/// <see cref="IGrainStateQuery"/> over Orleans' AdoNet grain storage on PostgreSQL (<c>orleans_grain_state</c>,
/// schema scripts 0003 and 0005), for one service id. The state name is the provider's <c>grain_type</c> column, the
/// key its <c>grain_id_extension</c>.
/// </summary>
/// <remarks>
/// The AdoNet provider keeps a grain key as a string only if Orleans cannot read it as an integer or GUID key: a key of
/// 1-16 hexadecimal digits (optionally followed by <c>+</c> and more text) or of 32 hexadecimal digits is stored as
/// numbers. Such keys are not listed, and <see cref="GetAsync{TState}"/> refuses them with an
/// <see cref="ArgumentException"/>; grain keys meant to be queried must not have those shapes.
/// </remarks>
public sealed class PostgresGrainStateQuery : IGrainStateQuery
{
    private const string ListSqlStart =
        "SELECT grain_id_extension, version, payload, modified_on FROM orleans_grain_state " +
        "WHERE service_id = $1 AND grain_type = $2 AND grain_id_n0 = 0 AND grain_id_n1 = 0 AND grain_id_extension IS NOT NULL AND payload IS NOT NULL";

    private const string ListSqlEnd = " ORDER BY left(grain_id_extension, 400) COLLATE \"C\", grain_id_extension COLLATE \"C\" LIMIT $6";

    private const string GetSql =
        "SELECT version, payload, modified_on FROM orleans_grain_state " +
        "WHERE service_id = $1 AND grain_type = $2 AND grain_id_n0 = 0 AND grain_id_n1 = 0 AND grain_id_extension IS NOT NULL " +
        "AND left(grain_id_extension, 400) COLLATE \"C\" = left($3, 400) AND grain_id_extension = $3 AND payload IS NOT NULL";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates the query.</summary>
    /// <param name="dataSource">The cluster database (not disposed by the query).</param>
    /// <param name="serviceId">The Orleans service id whose grains to read (<c>ClusterOptions.ServiceId</c>).</param>
    /// <param name="serializerOptions">The JSON options the states were written with; null is <see cref="GrainStateJsonSerializer.DefaultOptions"/>.</param>
    public PostgresGrainStateQuery(NpgsqlDataSource dataSource, string serviceId, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
        _dataSource = dataSource;
        _serviceId = serviceId;
        _options = serializerOptions ?? GrainStateJsonSerializer.DefaultOptions;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<GrainStateEntry<TState>>> ListAsync<TState>(string stateName, string? keyPrefix, string? afterKey, int limit, CancellationToken ct = default)
    {
        GrainKeyRange.Validate(stateName, limit);
        var range = GrainKeyRange.From(keyPrefix, afterKey);
        // The first-400-characters bound lets the index seek; the whole-key bound is the exact one.
        var sql = ListSqlStart + range.Conditions(
            "left(grain_id_extension, 400) COLLATE \"C\" >= left($3, 400) AND grain_id_extension COLLATE \"C\" {op} $3",
            "left(grain_id_extension, 400) COLLATE \"C\" < left($4, 400) || chr(1114111)",
            "starts_with(grain_id_extension, $5)") + ListSqlEnd;
        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Lower ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Prefix ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Prefix ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var entries = new List<GrainStateEntry<TState>>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var key = reader.GetString(0);
            var state = StateDeserializer.Deserialize<TState>(reader.GetFieldValue<byte[]>(2), _options, stateName, key);
            entries.Add(new GrainStateEntry<TState>(key, reader.GetInt32(1), state, reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return entries;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="key"/> has a shape the AdoNet provider stores as an integer or GUID key.</exception>
    public async Task<GrainStateEntry<TState>?> GetAsync<TState>(string stateName, string key, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!IsStoredAsString(key))
        {
            throw new ArgumentException($"Grain key '{key}' has the shape of an integer or GUID key, which Orleans' AdoNet grain storage stores as numbers, not as this text; it cannot be read by key.", nameof(key));
        }

        await using var command = _dataSource.CreateCommand(GetSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }

        var state = StateDeserializer.Deserialize<TState>(reader.GetFieldValue<byte[]>(1), _options, stateName, key);
        return new GrainStateEntry<TState>(key, reader.GetInt32(0), state, reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>
    /// Whether Orleans' AdoNet grain storage stores the string key <paramref name="key"/> as that text (in
    /// <c>grain_id_extension</c>), rather than reading it as an integer or GUID key (Orleans' own key parsing).
    /// </summary>
    public static bool IsStoredAsString(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = GrainId.Create("xmbl-key-shape", key);
        return !id.TryGetIntegerKey(out _, out _) && !id.TryGetGuidKey(out _, out _);
    }
}
