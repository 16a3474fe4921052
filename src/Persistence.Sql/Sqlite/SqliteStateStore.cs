using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Persistence.Sql.Internal;

namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>
/// The <c>xmbl_grain_state</c> table behind <see cref="SqliteGrainStorage"/>: one connection that does all its reads and
/// writes, and group commit for the writes. Writes that arrive while a batch is being committed are collected and
/// committed together in the next transaction: SQLite has one writer and a commit costs far more than a statement, so
/// under load this multiplies throughput; alone, a write is committed at once. Each write keeps its own version
/// condition, so one conflicting write does not affect the others in its batch.
/// </summary>
/// <remarks>
/// One connection: a SQLite connection drops its page cache whenever another connection has written, so reads on a
/// connection that only sees its own writes stay warm. Statements run synchronously under a lock that is never held
/// across an await. A write's task completes only after its transaction committed.
/// </remarks>
internal sealed partial class SqliteStateStore : IDisposable
{
    private const string ReadSql = "SELECT version, payload FROM xmbl_grain_state WHERE state_name = $s AND grain_key = $k";

    private const string InsertSql =
        "INSERT INTO xmbl_grain_state (state_name, grain_key, version, payload, updated_at) VALUES ($s, $k, 1, $p, $u) " +
        "ON CONFLICT DO NOTHING RETURNING version";

    private const string UpdateSql =
        "UPDATE xmbl_grain_state SET version = version + 1, payload = $p, updated_at = $u " +
        "WHERE state_name = $s AND grain_key = $k AND version = $v RETURNING version";

    private const string DeleteSql = "DELETE FROM xmbl_grain_state WHERE state_name = $s AND grain_key = $k AND version = $v RETURNING version";

    private const string ShapeSql = "SELECT state_name, grain_key, version, payload, updated_at FROM xmbl_grain_state LIMIT 0";

    /// <summary>Page cache of the connection in KiB (SQLite's negative cache_size form).</summary>
    private const int CacheKib = 16 * 1024;

    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private readonly string _name;

    private readonly Lock _connectionLock = new();
    private SqliteConnection? _connection;
    private SqliteCommand? _read;
    private SqliteCommand? _insert;
    private SqliteCommand? _update;
    private SqliteCommand? _delete;

    private readonly Lock _queueLock = new();
    private List<StateWrite> _pending = [];
    private bool _draining;
    private bool _closed;
    private TaskCompletionSource? _drained;
    private long _transactions;
    private int _largestBatch;

    public SqliteStateStore(string name, string connectionString, SqliteSynchronous synchronous, int busyTimeoutSeconds, int maxBatch, ILogger logger)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            // A dedicated connection: the pool would only hide it from Dispose.
            Pooling = false,
            DefaultTimeout = busyTimeoutSeconds,
        };
        FullPath = Path.GetFullPath(builder.DataSource);
        builder.DataSource = FullPath;
        _connectionString = builder.ToString();
        _name = name;
        _maxBatch = maxBatch;
        _logger = logger;
        var level = synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL";
        _pragmas = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={level}; " +
                   $"PRAGMA busy_timeout={(busyTimeoutSeconds * 1000).ToString(CultureInfo.InvariantCulture)}; " +
                   $"PRAGMA cache_size=-{CacheKib.ToString(CultureInfo.InvariantCulture)};";
    }

    /// <summary>The database file.</summary>
    public string FullPath { get; }

    /// <summary>Transactions committed so far (tests and benchmarks: writes per transaction).</summary>
    public long Transactions => Volatile.Read(ref _transactions);

    /// <summary>The most writes committed in one transaction so far.</summary>
    public int LargestBatch => Volatile.Read(ref _largestBatch);

    /// <summary>Opens the connection and checks the table now, so a missing schema stops the silo at start.</summary>
    public void Open()
    {
        lock (_connectionLock)
        {
            EnsureOpen();
        }
    }

    /// <summary>Reads one row: its version and payload (null after a clear), or null when there is none.</summary>
    public (long Version, byte[]? Payload)? Read(string stateName, string key)
    {
        lock (_connectionLock)
        {
            ObjectDisposedException.ThrowIf(_closed && _connection is null, this);
            try
            {
                EnsureOpen();
                _read!.Parameters[0].Value = stateName;
                _read.Parameters[1].Value = key;
                using var reader = _read.ExecuteReader();
                return reader.Read() ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1)) : null;
            }
            catch (SqliteException)
            {
                CloseConnection();
                throw;
            }
        }
    }

    /// <summary>
    /// Queues a conditional write and completes, once its transaction committed, with the row's new version, or null
    /// when the version condition failed (a conflict). After a delete the "new version" is the deleted one.
    /// </summary>
    public Task<long?> WriteAsync(StateWrite write)
    {
        bool lead;
        lock (_queueLock)
        {
            if (_closed)
            {
                return Task.FromException<long?>(new ObjectDisposedException(nameof(SqliteGrainStorage), $"SQLite grain storage '{_name}' is stopped."));
            }

            _pending.Add(write);
            lead = !_draining;
            _draining = true;
        }

        if (lead)
        {
            // Uncontended: commit inline, no thread hop. Writes that queued meanwhile are committed by a pool thread,
            // so this caller is not held up by other callers' writes.
            CommitNextBatch();
            bool more;
            lock (_queueLock)
            {
                more = _pending.Count > 0;
                if (!more)
                {
                    SetIdle();
                }
            }

            if (more)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static self => self.Drain(), this, preferLocal: false);
            }
        }

        return write.Completion.Task;
    }

    /// <summary>Refuses new writes, waits for the queued ones to commit, and closes the connection.</summary>
    public async Task CloseAsync()
    {
        Task drained;
        lock (_queueLock)
        {
            _closed = true;
            drained = _draining ? (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task : Task.CompletedTask;
        }

        await drained.ConfigureAwait(false);
        lock (_connectionLock)
        {
            CloseConnection();
        }
    }

    public void Dispose()
    {
        lock (_queueLock)
        {
            _closed = true;
        }

        lock (_connectionLock)
        {
            CloseConnection();
        }
    }

    private void Drain()
    {
        while (true)
        {
            lock (_queueLock)
            {
                if (_pending.Count == 0)
                {
                    SetIdle();
                    return;
                }
            }

            CommitNextBatch();
        }
    }

    // Under _queueLock.
    private void SetIdle()
    {
        _draining = false;
        _drained?.TrySetResult();
        _drained = null;
    }

    private void CommitNextBatch()
    {
        List<StateWrite> batch;
        lock (_queueLock)
        {
            if (_pending.Count <= _maxBatch)
            {
                batch = _pending;
                _pending = [];
            }
            else
            {
                batch = _pending.GetRange(0, _maxBatch);
                _pending.RemoveRange(0, _maxBatch);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            Commit(batch);
        }
        catch (Exception e)
        {
            LogBatchFailed(_logger, e, _name, batch.Count, FullPath);
            foreach (var write in batch)
            {
                write.Completion.TrySetException(e);
            }

            return;
        }

        foreach (var write in batch)
        {
            write.Completion.TrySetResult(write.NewVersion);
        }
    }

    private void Commit(List<StateWrite> batch)
    {
        lock (_connectionLock)
        {
            try
            {
                EnsureOpen();
                using var transaction = batch.Count > 1 ? _connection!.BeginTransaction(deferred: false) : null;
                foreach (var write in batch)
                {
                    write.NewVersion = Execute(write, transaction);
                }

                transaction?.Commit();
                Volatile.Write(ref _transactions, _transactions + 1);
                if (batch.Count > _largestBatch)
                {
                    Volatile.Write(ref _largestBatch, batch.Count);
                }
            }
            catch (SqliteException)
            {
                // The connection may be unusable (I/O error, a transaction left open); the next caller opens a fresh one.
                CloseConnection();
                throw;
            }
        }
    }

    private long? Execute(StateWrite write, SqliteTransaction? transaction)
    {
        SqliteCommand command;
        switch (write.Kind)
        {
            case StateWriteKind.Insert:
                command = _insert!;
                command.Parameters[2].Value = write.Payload;
                command.Parameters[3].Value = write.UpdatedAtMs;
                break;
            case StateWriteKind.Update:
                command = _update!;
                command.Parameters[2].Value = write.ExpectedVersion;
                command.Parameters[3].Value = (object?)write.Payload ?? DBNull.Value;
                command.Parameters[4].Value = write.UpdatedAtMs;
                break;
            default:
                command = _delete!;
                command.Parameters[2].Value = write.ExpectedVersion;
                break;
        }

        command.Transaction = transaction;
        command.Parameters[0].Value = write.StateName;
        command.Parameters[1].Value = write.Key;
        return command.ExecuteScalar() is long version ? version : null;
    }

    // Under _connectionLock.
    private void EnsureOpen()
    {
        if (_connection is not null)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(_closed, this);
        var directory = Path.GetDirectoryName(FullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = _pragmas;
                pragma.ExecuteNonQuery();
            }

            CheckShape(connection);
            _read = Prepare(connection, ReadSql, ("$s", SqliteType.Text), ("$k", SqliteType.Text));
            // Execute sets the parameters by position.
            _insert = Prepare(connection, InsertSql, ("$s", SqliteType.Text), ("$k", SqliteType.Text), ("$p", SqliteType.Blob), ("$u", SqliteType.Integer));
            _update = Prepare(connection, UpdateSql, ("$s", SqliteType.Text), ("$k", SqliteType.Text), ("$v", SqliteType.Integer), ("$p", SqliteType.Blob), ("$u", SqliteType.Integer));
            _delete = Prepare(connection, DeleteSql, ("$s", SqliteType.Text), ("$k", SqliteType.Text), ("$v", SqliteType.Integer));
        }
        catch
        {
            connection.Dispose();
            _read = _insert = _update = _delete = null;
            throw;
        }

        _connection = connection;
    }

    private void CheckShape(SqliteConnection connection)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = ShapeSql;
            using var reader = command.ExecuteReader();
        }
        catch (SqliteException e)
        {
            throw new InvalidOperationException(
                $"SQLite grain storage '{_name}': the table xmbl_grain_state in '{FullPath}' is missing or not of schema script " +
                $"0004-xmbl-grain-state ({e.Message}). Run SchemaMigrator (SqlDialect.Sqlite) on this file before the silo starts; " +
                "a file written by the old grain runtime (src/Runtime) has a table of that name in another shape and cannot be reused.", e);
        }
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, SqliteType Type)> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        command.Prepare();
        return command;
    }

    // Under _connectionLock.
    private void CloseConnection()
    {
        _read?.Dispose();
        _insert?.Dispose();
        _update?.Dispose();
        _delete?.Dispose();
        _read = _insert = _update = _delete = null;
        _connection?.Dispose();
        _connection = null;
    }

    [LoggerMessage(EventId = PersistenceSqlEventId.GrainStorageBatchFailed, Level = LogLevel.Error, Message = "SQLite grain storage {Name}: a transaction of {Count} writes to {Path} failed; every write in it failed and nothing of it was stored.")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, string name, int count, string path);
}

/// <summary>What a queued write does.</summary>
internal enum StateWriteKind
{
    /// <summary>First write: inserts version 1 unless a row exists.</summary>
    Insert,

    /// <summary>Sets the payload (null to clear) of the row still at the expected version.</summary>
    Update,

    /// <summary>Deletes the row still at the expected version.</summary>
    Delete,
}

/// <summary>One queued write and its outcome.</summary>
internal sealed class StateWrite(StateWriteKind kind, string stateName, string key, long expectedVersion, byte[]? payload, long updatedAtMs)
{
    public StateWriteKind Kind { get; } = kind;

    public string StateName { get; } = stateName;

    public string Key { get; } = key;

    /// <summary>The version the writer holds (unused by <see cref="StateWriteKind.Insert"/>).</summary>
    public long ExpectedVersion { get; } = expectedVersion;

    public byte[]? Payload { get; } = payload;

    public long UpdatedAtMs { get; } = updatedAtMs;

    public long? NewVersion { get; set; }

    public TaskCompletionSource<long?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
