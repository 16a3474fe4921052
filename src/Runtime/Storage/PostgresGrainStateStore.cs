using Npgsql;
using NpgsqlTypes;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Storage;

/// <summary>
/// Grain state in PostgreSQL. A call is one transaction: one round trip for BEGIN + row lock and load
/// (<c>SELECT … FOR UPDATE</c>; a grain without a row first gets a placeholder row to lock), one for the conditional
/// UPDATE + COMMIT (or a ROLLBACK when the state did not change, which also drops the placeholder of a grain that
/// still has no state).
/// </summary>
internal sealed class PostgresGrainStateStore(NpgsqlDataSource dataSource, TimeProvider timeProvider) : IGrainStateStore
{
    private const string PlaceholderSql =
        "INSERT INTO xmbl_grain_state (grain_type, grain_key, version, state, updated_at) VALUES ($1, $2, 0, NULL, now()) ON CONFLICT DO NOTHING";

    private const string LockSql = "SELECT version, state FROM xmbl_grain_state WHERE grain_type = $1 AND grain_key = $2 FOR UPDATE";

    private const string UpdateSql =
        "UPDATE xmbl_grain_state SET state = $3, version = version + 1, updated_at = $4 WHERE grain_type = $1 AND grain_key = $2 AND version = $5";

    private const string ReadSql = "SELECT version, state, updated_at FROM xmbl_grain_state WHERE grain_type = $1 AND grain_key = $2 AND state IS NOT NULL";

    private const string WriteSql =
        "INSERT INTO xmbl_grain_state (grain_type, grain_key, version, state, updated_at) VALUES ($1, $2, $3 + 1, $4, $5) " +
        "ON CONFLICT (grain_type, grain_key) DO UPDATE SET version = excluded.version, state = excluded.state, updated_at = excluded.updated_at " +
        "WHERE xmbl_grain_state.version = $3";

    private const string ListSqlStart = "SELECT grain_key, version, state, updated_at FROM xmbl_grain_state WHERE grain_type = $1 AND state IS NOT NULL";

    public KeyedAsyncLock Locks { get; } = new();

    public Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    public async ValueTask<IGrainStateTransaction> BeginAsync(GrainId id, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var transaction = new Transaction(connection, id, timeProvider);
        try
        {
            await transaction.BeginAsync(ct).ConfigureAwait(false);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<StoredGrainState?> ReadAsync(GrainId id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(ReadSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? new StoredGrainState(id.Key, reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<DateTimeOffset>(2))
            : null;
    }

    public async Task<long> WriteAsync(GrainId id, ReadOnlyMemory<byte> state, long expectedVersion, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(WriteSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedVersion });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.ToArray(), NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(timeProvider.GetUtcNow()) });
        var changed = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return changed == 1 ? expectedVersion + 1 : throw new InconsistentStateException(id.Type, id.Key, expectedVersion);
    }

    public async Task<IReadOnlyList<StoredGrainState>> ListAsync(string grainType, string? keyPrefix, string? afterKey, int limit, CancellationToken ct)
    {
        var range = GrainKeyRange.From(keyPrefix, afterKey);
        var sql = ListSqlStart + range.Conditions("$3::text", "$4::text", "starts_with(grain_key, $5::text)") + " ORDER BY grain_key LIMIT $2";
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainType });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        // Unused parameters are still sent (typed) so that the numbering stays fixed across the variants.
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Lower ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Upper ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.Prefix ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<StoredGrainState>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(new StoredGrainState(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return rows;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Transaction(NpgsqlConnection connection, GrainId id, TimeProvider timeProvider) : IGrainStateTransaction
    {
        private bool _open;

        public long Version { get; private set; }

        public byte[]? State { get; private set; }

        public async Task BeginAsync(CancellationToken ct)
        {
            // Usual case, the row exists: BEGIN + lock and load in one round trip.
            _open = true;
            if (await LockAsync(begin: true, insertPlaceholder: false, ct).ConfigureAwait(false))
            {
                return;
            }

            // New grain: insert a placeholder row (version 0, no state) so there is a row to lock, then lock it.
            if (!await LockAsync(begin: false, insertPlaceholder: true, ct).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The row of grain {id} vanished between insert and lock.");
            }
        }

        private async Task<bool> LockAsync(bool begin, bool insertPlaceholder, CancellationToken ct)
        {
            await using var batch = new NpgsqlBatch(connection);
            if (begin)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            }

            if (insertPlaceholder)
            {
                var placeholder = new NpgsqlBatchCommand(PlaceholderSql);
                placeholder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
                placeholder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
                batch.BatchCommands.Add(placeholder);
            }

            var select = new NpgsqlBatchCommand(LockSql);
            select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
            select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
            batch.BatchCommands.Add(select);
            await using var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return false;
            }

            Version = reader.GetInt64(0);
            State = await reader.IsDBNullAsync(1, ct).ConfigureAwait(false) ? null : reader.GetFieldValue<byte[]>(1);
            return true;
        }

        public async ValueTask CommitAsync(byte[]? newState, CancellationToken ct)
        {
            await using var batch = new NpgsqlBatch(connection);
            NpgsqlBatchCommand? update = null;
            if (newState is null)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("ROLLBACK"));
            }
            else
            {
                update = new NpgsqlBatchCommand(UpdateSql);
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
                update.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = newState, NpgsqlDbType = NpgsqlDbType.Bytea });
                update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(timeProvider.GetUtcNow()) });
                update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Version });
                batch.BatchCommands.Add(update);
                batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            }

            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            _open = false;
            if (update is not null && update.RecordsAffected != 1)
            {
                throw new InconsistentStateException(id.Type, id.Key, Version);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_open && connection.State == System.Data.ConnectionState.Open)
            {
                try
                {
                    await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
                    await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (NpgsqlException)
                {
                    // The connection is broken; closing it ends the transaction on the server.
                }
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
