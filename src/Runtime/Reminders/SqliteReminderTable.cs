using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;

namespace Xmbl.Cluster.Runtime.Reminders;

/// <summary>The reminder table in SQLite; claims run in one write transaction, so a tick is claimed once.</summary>
internal sealed class SqliteReminderTable(SqliteDatabase database) : IReminderTable
{
    private const string Columns = "grain_type, grain_key, reminder_name, start_at, period_ms, next_due";

    public async Task UpsertAsync(ReminderEntry entry, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            database.UsePrimary(session =>
            {
                var command = session.Command(
                    $"INSERT INTO xmbl_reminders ({Columns}, version) VALUES ($t, $k, $n, $s, $p, $d, 1) " +
                    "ON CONFLICT (grain_type, grain_key, reminder_name) DO UPDATE SET start_at = excluded.start_at, period_ms = excluded.period_ms, " +
                    "next_due = excluded.next_due, version = xmbl_reminders.version + 1",
                    ("$t", SqliteType.Text), ("$k", SqliteType.Text), ("$n", SqliteType.Text), ("$s", SqliteType.Integer), ("$p", SqliteType.Integer), ("$d", SqliteType.Integer));
                command.Parameters[0].Value = entry.GrainType;
                command.Parameters[1].Value = entry.GrainKey;
                command.Parameters[2].Value = entry.Name;
                command.Parameters[3].Value = UnixTime.ToMs(entry.StartAt);
                command.Parameters[4].Value = (long)entry.Period.TotalMilliseconds;
                command.Parameters[5].Value = UnixTime.ToMs(entry.NextDue);
                return command.ExecuteNonQuery();
            });
        }
    }

    public async Task<bool> DeleteAsync(GrainId id, string name, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            return database.UsePrimary(session =>
            {
                var command = session.Command(
                    "DELETE FROM xmbl_reminders WHERE grain_type = $t AND grain_key = $k AND reminder_name = $n",
                    ("$t", SqliteType.Text), ("$k", SqliteType.Text), ("$n", SqliteType.Text));
                command.Parameters[0].Value = id.Type;
                command.Parameters[1].Value = id.Key;
                command.Parameters[2].Value = name;
                return command.ExecuteNonQuery() > 0;
            });
        }
    }

    public Task<IReadOnlyList<ReminderEntry>> ListAsync(GrainId id, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<ReminderEntry>>(database.Use(session =>
        {
            var command = session.Command(
                $"SELECT {Columns} FROM xmbl_reminders WHERE grain_type = $t AND grain_key = $k ORDER BY reminder_name",
                ("$t", SqliteType.Text), ("$k", SqliteType.Text));
            command.Parameters[0].Value = id.Type;
            command.Parameters[1].Value = id.Key;
            return ReadEntries(command);
        }));
    }

    public async Task<IReadOnlyList<ReminderTick>> ClaimDueAsync(DateTimeOffset now, int limit, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            return database.UsePrimary(session =>
            {
                using var transaction = session.Connection.BeginTransaction(deferred: false);
                var select = session.Command(
                    $"SELECT {Columns} FROM xmbl_reminders WHERE next_due <= $now ORDER BY next_due LIMIT $limit",
                    ("$now", SqliteType.Integer), ("$limit", SqliteType.Integer));
                select.Transaction = transaction;
                select.Parameters[0].Value = UnixTime.ToMs(now);
                select.Parameters[1].Value = limit;
                var due = ReadEntries(select);
                if (due.Count == 0)
                {
                    return (IReadOnlyList<ReminderTick>)[];
                }

                var update = session.Command(
                    "UPDATE xmbl_reminders SET next_due = $next WHERE grain_type = $t AND grain_key = $k AND reminder_name = $n",
                    ("$next", SqliteType.Integer), ("$t", SqliteType.Text), ("$k", SqliteType.Text), ("$n", SqliteType.Text));
                update.Transaction = transaction;
                var ticks = new List<ReminderTick>(due.Count);
                foreach (var r in due)
                {
                    update.Parameters[0].Value = UnixTime.ToMs(ReminderSchedule.NextTickAfter(r.StartAt, r.Period, now));
                    update.Parameters[1].Value = r.GrainType;
                    update.Parameters[2].Value = r.GrainKey;
                    update.Parameters[3].Value = r.Name;
                    update.ExecuteNonQuery();
                    ticks.Add(new ReminderTick(r.GrainType, r.GrainKey, r.Name, r.StartAt, r.Period, ReminderSchedule.LatestTick(r.StartAt, r.Period, now)));
                }

                transaction.Commit();
                return ticks;
            });
        }
    }

    public Task<DateTimeOffset?> GetNextDueAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(database.Use(session =>
        {
            var value = session.Command("SELECT min(next_due) FROM xmbl_reminders").ExecuteScalar();
            return value is null or DBNull ? (DateTimeOffset?)null : UnixTime.FromMs(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
        }));
    }

    private static List<ReminderEntry> ReadEntries(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<ReminderEntry>();
        while (reader.Read())
        {
            rows.Add(new ReminderEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), UnixTime.FromMs(reader.GetInt64(3)),
                TimeSpan.FromMilliseconds(reader.GetInt64(4)), UnixTime.FromMs(reader.GetInt64(5))));
        }

        return rows;
    }
}
