using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;

namespace Xmbl.Cluster.Runtime.Storage;

/// <summary>
/// Grain state in SQLite. The in-process per-key lock gives single writer per key (one process owns the file);
/// the load is a plain read, the write one conditional upsert (version check as a second line of defence).
/// </summary>
internal sealed class SqliteGrainStateStore(SqliteDatabase database, TimeProvider timeProvider) : IGrainStateStore
{
    private const string LoadSql = "SELECT version, state FROM xmbl_grain_state WHERE grain_type = $t AND grain_key = $k";

    private const string ReadSql = "SELECT version, state, updated_at FROM xmbl_grain_state WHERE grain_type = $t AND grain_key = $k AND state IS NOT NULL";

    private const string ListSqlStart = "SELECT grain_key, version, state, updated_at FROM xmbl_grain_state WHERE grain_type = $t AND state IS NOT NULL";

    private readonly SqliteWriteBatcher _writes = new(database);

    public KeyedAsyncLock Locks => database.Shared.Locks;

    public Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    public ValueTask<IGrainStateTransaction> BeginAsync(GrainId id, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        // On the primary connection, whose page cache the writes keep warm.
        var (version, state) = database.UsePrimary(session =>
        {
            var command = session.Command(LoadSql, ("$t", SqliteType.Text), ("$k", SqliteType.Text));
            command.Parameters[0].Value = id.Type;
            command.Parameters[1].Value = id.Key;
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1)) : (0L, (byte[]?)null);
        });
        return ValueTask.FromResult<IGrainStateTransaction>(new Transaction(this, id, version, state));
    }

    public Task<StoredGrainState?> ReadAsync(GrainId id, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(database.Use(session =>
        {
            var command = session.Command(ReadSql, ("$t", SqliteType.Text), ("$k", SqliteType.Text));
            command.Parameters[0].Value = id.Type;
            command.Parameters[1].Value = id.Key;
            using var reader = command.ExecuteReader();
            return reader.Read() ? new StoredGrainState(id.Key, reader.GetInt64(0), (byte[])reader.GetValue(1), UnixTime.FromMs(reader.GetInt64(2))) : null;
        }));
    }

    public async Task<long> WriteAsync(GrainId id, ReadOnlyMemory<byte> state, long expectedVersion, CancellationToken ct)
    {
        var bytes = MemoryMarshalArray(state);
        var changed = await _writes.WriteAsync(id, bytes, expectedVersion, UnixTime.ToMs(timeProvider.GetUtcNow()), ct).ConfigureAwait(false);
        return changed == 1 ? expectedVersion + 1 : throw new InconsistentStateException(id.Type, id.Key, expectedVersion);
    }

    private static byte[] MemoryMarshalArray(ReadOnlyMemory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();

    public Task<IReadOnlyList<StoredGrainState>> ListAsync(string grainType, string? keyPrefix, string? afterKey, int limit, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<StoredGrainState>>(database.Use(session =>
        {
            var range = GrainKeyRange.From(keyPrefix, afterKey);
            var sql = ListSqlStart + range.Conditions("$lo", "$hi", "substr(grain_key, 1, length($p)) = $p") + " ORDER BY grain_key LIMIT $n";
            var command = session.Command(sql, ("$t", SqliteType.Text), ("$lo", SqliteType.Text), ("$hi", SqliteType.Text), ("$p", SqliteType.Text), ("$n", SqliteType.Integer));
            command.Parameters[0].Value = grainType;
            command.Parameters[1].Value = (object?)range.Lower ?? DBNull.Value;
            command.Parameters[2].Value = (object?)range.Upper ?? DBNull.Value;
            command.Parameters[3].Value = (object?)range.Prefix ?? DBNull.Value;
            command.Parameters[4].Value = limit;
            using var reader = command.ExecuteReader();
            var rows = new List<StoredGrainState>();
            while (reader.Read())
            {
                rows.Add(new StoredGrainState(reader.GetString(0), reader.GetInt64(1), (byte[])reader.GetValue(2), UnixTime.FromMs(reader.GetInt64(3))));
            }

            return rows;
        }));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Transaction(SqliteGrainStateStore store, GrainId id, long version, byte[]? state) : IGrainStateTransaction
    {
        public long Version { get; } = version;

        public byte[]? State { get; } = state;

        public async ValueTask CommitAsync(byte[]? newState, CancellationToken ct)
        {
            if (newState is not null)
            {
                await store.WriteAsync(id, newState, Version, ct).ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
