using Npgsql;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Postgres;

namespace Xmbl.Cluster.Runtime.Reminders;

/// <summary>
/// The reminder table in PostgreSQL. Claims lock due rows with <c>FOR UPDATE SKIP LOCKED</c> and move their next due
/// time in the same transaction, so concurrent silos split the due reminders and never deliver a tick twice.
/// </summary>
internal sealed class PostgresReminderTable(NpgsqlDataSource dataSource) : IReminderTable
{
    private const string Columns = "grain_type, grain_key, reminder_name, start_at, period_ms, next_due";

    public async Task UpsertAsync(ReminderEntry entry, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        var upsert = new NpgsqlBatchCommand(
            $"INSERT INTO xmbl_reminders ({Columns}, version) VALUES ($1, $2, $3, $4, $5, $6, 1) " +
            "ON CONFLICT (grain_type, grain_key, reminder_name) DO UPDATE SET start_at = excluded.start_at, period_ms = excluded.period_ms, " +
            "next_due = excluded.next_due, version = xmbl_reminders.version + 1");
        upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.GrainType });
        upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.GrainKey });
        upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Name });
        upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(entry.StartAt) });
        upsert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)entry.Period.TotalMilliseconds });
        upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(entry.NextDue) });
        batch.BatchCommands.Add(upsert);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{PostgresBackend.ReminderChannel}', '')"));
        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<bool> DeleteAsync(GrainId id, string name, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM xmbl_reminders WHERE grain_type = $1 AND grain_key = $2 AND reminder_name = $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<ReminderEntry>> ListAsync(GrainId id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM xmbl_reminders WHERE grain_type = $1 AND grain_key = $2 ORDER BY reminder_name");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id.Key });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await ReadEntriesAsync(reader, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ReminderTick>> ClaimDueAsync(DateTimeOffset now, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        List<ReminderEntry> due;
        await using (var select = new NpgsqlCommand(
            $"SELECT {Columns} FROM xmbl_reminders WHERE next_due <= $1 ORDER BY next_due LIMIT $2 FOR UPDATE SKIP LOCKED", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(now) });
            select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            due = await ReadEntriesAsync(reader, ct).ConfigureAwait(false);
        }

        if (due.Count == 0)
        {
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return [];
        }

        var ticks = new List<ReminderTick>(due.Count);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            foreach (var r in due)
            {
                var update = new NpgsqlBatchCommand("UPDATE xmbl_reminders SET next_due = $4 WHERE grain_type = $1 AND grain_key = $2 AND reminder_name = $3");
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.GrainType });
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.GrainKey });
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = r.Name });
                update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = ReminderSchedule.NextTickAfter(r.StartAt, r.Period, UnixTime.Truncate(now)) });
                batch.BatchCommands.Add(update);
                ticks.Add(new ReminderTick(r.GrainType, r.GrainKey, r.Name, r.StartAt, r.Period, ReminderSchedule.LatestTick(r.StartAt, r.Period, UnixTime.Truncate(now))));
            }

            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return ticks;
    }

    public async Task<DateTimeOffset?> GetNextDueAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT min(next_due) FROM xmbl_reminders");
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value switch
        {
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            DateTimeOffset dto => dto,
            _ => null,
        };
    }

    private static async Task<List<ReminderEntry>> ReadEntriesAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        var rows = new List<ReminderEntry>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(new ReminderEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                TimeSpan.FromMilliseconds(reader.GetInt64(4)), reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return rows;
    }
}
