using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Internal;

namespace Xmbl.Cluster.Runtime.Persistence.Sqlite;

/// <summary>
/// A SQLite file in WAL mode with a pool of open connections, each with its prepared statements. Writes within this
/// process are serialized by one async gate (SQLite has one writer; waiting in SQLite's busy handler sleeps for
/// milliseconds), reads run in parallel.
/// </summary>
/// <remarks>
/// Every write, and every grain load, goes through one primary connection (<see cref="UsePrimary{T}"/>). A SQLite
/// connection drops its whole page cache when another connection has written; with writes spread over the pool, every
/// read started cold and re-read its pages with system calls (a quarter of the jobs benchmark's CPU). The primary
/// connection sees only its own writes, so its cache stays warm; listings and unlocked reads stay on the pool.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    private const int MaxIdleSessions = 32;

    /// <summary>Page cache of the primary connection, in KiB (SQLite's negative cache_size form).</summary>
    private const int PrimaryCacheKib = 16 * 1024;

    /// <summary>Everything runtimes in one process must share per file: locks, write gate, reminder signal.</summary>
    private static readonly ConcurrentDictionary<string, FileShared> SharedByPath = new(StringComparer.Ordinal);

    private readonly ConcurrentQueue<SqliteSession> _idle = new();
    private readonly Lock _primaryLock = new();
    private SqliteSession? _primary;
    private readonly string _connectionString;
    private readonly int _commandTimeoutSeconds;
    private int _idleCount;
    private volatile bool _disposed;

    public SqliteDatabase(string path, int commandTimeoutSeconds)
    {
        FullPath = Path.GetFullPath(path);
        _commandTimeoutSeconds = commandTimeoutSeconds;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = commandTimeoutSeconds,
        }.ToString();
        Shared = SharedByPath.GetOrAdd(FullPath, static _ => new FileShared());
    }

    public string FullPath { get; }

    public FileShared Shared { get; }

    public SqliteSession Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryDequeue(out var session))
        {
            Interlocked.Decrement(ref _idleCount);
            return session;
        }

        return Open();
    }

    public void Return(SqliteSession session)
    {
        if (_disposed || session.Broken)
        {
            session.Dispose();
            return;
        }

        if (Interlocked.Increment(ref _idleCount) > MaxIdleSessions)
        {
            Interlocked.Decrement(ref _idleCount);
            session.Dispose();
            return;
        }

        _idle.Enqueue(session);
    }

    /// <summary>Runs <paramref name="action"/> on the primary connection, one caller at a time (see the remarks on the class).</summary>
    /// <remarks>Synchronous by design: the lock is never held across an await.</remarks>
    public T UsePrimary<T>(Func<SqliteSession, T> action)
    {
        lock (_primaryLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_primary is null)
            {
                _primary = Open();
                using var pragma = _primary.Connection.CreateCommand();
                pragma.CommandText = $"PRAGMA cache_size=-{PrimaryCacheKib};";
                pragma.ExecuteNonQuery();
            }

            try
            {
                return action(_primary);
            }
            catch (SqliteException)
            {
                // The connection may be unusable; the next caller opens a fresh one.
                _primary.Dispose();
                _primary = null;
                throw;
            }
        }
    }

    /// <summary>Takes the in-process write gate; dispose the result to release it.</summary>
    public async ValueTask<WriteGateReleaser> EnterWriteAsync(CancellationToken ct)
    {
        await Shared.WriteGate.WaitAsync(ct).ConfigureAwait(false);
        return new WriteGateReleaser(Shared.WriteGate);
    }

    private SqliteSession Open()
    {
        var directory = Path.GetDirectoryName(FullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var pragma = connection.CreateCommand();
            // WAL: readers never block the writer; NORMAL: no fsync per commit (durable across process crashes,
            // not power loss); busy_timeout: wait in SQLite for writers of other processes.
            pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={_commandTimeoutSeconds * 1000}; PRAGMA foreign_keys=OFF;";
            pragma.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return new SqliteSession(connection, _commandTimeoutSeconds);
    }

    public void Dispose()
    {
        _disposed = true;
        lock (_primaryLock)
        {
            _primary?.Dispose();
            _primary = null;
        }

        while (_idle.TryDequeue(out var session))
        {
            session.Dispose();
        }
    }

    internal sealed class FileShared
    {
        public KeyedAsyncLock Locks { get; } = new();

        public SemaphoreSlim WriteGate { get; } = new(1, 1);

        public AsyncSignal ReminderChanged { get; } = new();
    }

    internal readonly struct WriteGateReleaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}

/// <summary>One open connection with its prepared commands, used by one caller at a time.</summary>
internal sealed class SqliteSession(SqliteConnection connection, int commandTimeoutSeconds) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection { get; } = connection;

    /// <summary>Set when a statement failed in a way that may leave the connection unusable; it is then not pooled.</summary>
    public bool Broken { get; set; }

    /// <summary>Gets the prepared command for <paramref name="sql"/>, creating it with the named parameters on first use.</summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<(string Name, SqliteType Type)> parameters)
    {
        if (_commands.TryGetValue(sql, out var command))
        {
            command.Transaction = null;
            return command;
        }

        command = Connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = commandTimeoutSeconds;
        foreach (var (name, type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        command.Prepare();
        _commands.Add(sql, command);
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        Connection.Dispose();
    }
}
