using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Runtime.Core;

namespace Xmbl.Cluster.Runtime.Persistence.Sqlite;

/// <summary>
/// Group commit for grain state writes: writes that arrive while a batch is being committed are collected and
/// committed together in the next transaction. SQLite has one writer and a commit costs far more than a statement,
/// so under load this multiplies write throughput; alone, a write is committed at once. Each write keeps its own
/// version condition: one failing its check does not affect the others.
/// </summary>
internal sealed class SqliteWriteBatcher(SqliteDatabase database)
{
    /// <summary>Upper bound on writes per transaction, so one commit never holds the writer for long.</summary>
    private const int MaxBatch = 512;

    private const string WriteSql =
        "INSERT INTO xmbl_grain_state (grain_type, grain_key, version, state, updated_at) VALUES ($t, $k, $v + 1, $s, $u) " +
        "ON CONFLICT (grain_type, grain_key) DO UPDATE SET version = excluded.version, state = excluded.state, updated_at = excluded.updated_at " +
        "WHERE xmbl_grain_state.version = $v";

    private readonly Lock _lock = new();
    private List<PendingWrite> _pending = [];
    private bool _draining;

    /// <summary>Queues a conditional write and completes with the number of rows changed (1, or 0 on a version conflict).</summary>
    public Task<int> WriteAsync(GrainId id, byte[] state, long expectedVersion, long updatedAtMs, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var write = new PendingWrite(id, state, expectedVersion, updatedAtMs);
        bool lead;
        lock (_lock)
        {
            _pending.Add(write);
            lead = !_draining;
            _draining = true;
        }

        if (lead)
        {
            // Uncontended: commit inline, no thread hop. Writes that queued meanwhile are committed by a pool
            // thread, so this caller is not held up by other callers' writes.
            CommitNextBatch();
            bool more;
            lock (_lock)
            {
                more = _pending.Count > 0;
                _draining = more;
            }

            if (more)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static self => self.Drain(), this, preferLocal: false);
            }
        }

        return write.Completion.Task;
    }

    private void Drain()
    {
        while (true)
        {
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _draining = false;
                    return;
                }
            }

            CommitNextBatch();
        }
    }

    /// <summary>Takes up to <see cref="MaxBatch"/> pending writes, commits them in one transaction and completes them.</summary>
    private void CommitNextBatch()
    {
        List<PendingWrite> batch;
        lock (_lock)
        {
            if (_pending.Count <= MaxBatch)
            {
                batch = _pending;
                _pending = [];
            }
            else
            {
                batch = _pending.GetRange(0, MaxBatch);
                _pending.RemoveRange(0, MaxBatch);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            Commit(batch);
            foreach (var write in batch)
            {
                write.Completion.TrySetResult(write.Changed);
            }
        }
        catch (Exception ex)
        {
            foreach (var write in batch)
            {
                write.Completion.TrySetException(ex);
            }
        }
    }

    private void Commit(List<PendingWrite> batch)
    {
        database.Shared.WriteGate.Wait(CancellationToken.None);
        try
        {
            database.UsePrimary(session =>
            {
                using var transaction = batch.Count > 1 ? session.Connection.BeginTransaction(deferred: false) : null;
                var command = session.Command(WriteSql, ("$t", SqliteType.Text), ("$k", SqliteType.Text), ("$v", SqliteType.Integer), ("$s", SqliteType.Blob), ("$u", SqliteType.Integer));
                command.Transaction = transaction;
                foreach (var write in batch)
                {
                    command.Parameters[0].Value = write.Id.Type;
                    command.Parameters[1].Value = write.Id.Key;
                    command.Parameters[2].Value = write.ExpectedVersion;
                    command.Parameters[3].Value = write.State;
                    command.Parameters[4].Value = write.UpdatedAtMs;
                    write.Changed = command.ExecuteNonQuery();
                }

                transaction?.Commit();
                return 0;
            });
        }
        finally
        {
            database.Shared.WriteGate.Release();
        }
    }

    private sealed class PendingWrite(GrainId id, byte[] state, long expectedVersion, long updatedAtMs)
    {
        public GrainId Id { get; } = id;

        public byte[] State { get; } = state;

        public long ExpectedVersion { get; } = expectedVersion;

        public long UpdatedAtMs { get; } = updatedAtMs;

        public int Changed { get; set; }

        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
