using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Persistence.Sqlite;

namespace Xmbl.Cluster.Runtime.Membership;

/// <summary>The membership table in SQLite.</summary>
internal sealed class SqliteMembershipTable(SqliteDatabase database) : IMembershipTable
{
    private const int Dead = (int)SiloStatus.Dead;

    public async Task JoinAsync(SiloEntry entry, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            database.UsePrimary(session =>
            {
                var command = session.Command(
                    "INSERT INTO xmbl_silos (silo_id, address, status, started_at, last_heartbeat) VALUES ($id, $a, $s, $st, $hb) " +
                    $"ON CONFLICT (silo_id) DO UPDATE SET address = excluded.address, status = excluded.status, started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat WHERE xmbl_silos.status <> {Dead}",
                    ("$id", SqliteType.Text), ("$a", SqliteType.Text), ("$s", SqliteType.Integer), ("$st", SqliteType.Integer), ("$hb", SqliteType.Integer));
                command.Parameters[0].Value = entry.SiloId;
                command.Parameters[1].Value = entry.Address;
                command.Parameters[2].Value = (int)entry.Status;
                command.Parameters[3].Value = UnixTime.ToMs(entry.StartedAt);
                command.Parameters[4].Value = UnixTime.ToMs(entry.LastHeartbeat);
                return command.ExecuteNonQuery();
            });
        }
    }

    public async Task<SiloStatus?> HeartbeatAsync(string siloId, DateTimeOffset now, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            return database.UsePrimary(session =>
            {
                var update = session.Command(
                    $"UPDATE xmbl_silos SET last_heartbeat = $hb WHERE silo_id = $id AND status <> {Dead}",
                    ("$id", SqliteType.Text), ("$hb", SqliteType.Integer));
                update.Parameters[0].Value = siloId;
                update.Parameters[1].Value = UnixTime.ToMs(now);
                update.ExecuteNonQuery();
                var select = session.Command("SELECT status FROM xmbl_silos WHERE silo_id = $id", ("$id", SqliteType.Text));
                select.Parameters[0].Value = siloId;
                var status = select.ExecuteScalar();
                return status is null or DBNull ? (SiloStatus?)null : (SiloStatus)Convert.ToInt32(status, System.Globalization.CultureInfo.InvariantCulture);
            });
        }
    }

    public async Task SetStatusAsync(string siloId, SiloStatus status, DateTimeOffset now, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            database.UsePrimary(session =>
            {
                var command = session.Command(
                    $"UPDATE xmbl_silos SET status = $s, last_heartbeat = $hb WHERE silo_id = $id AND status <> {Dead}",
                    ("$id", SqliteType.Text), ("$s", SqliteType.Integer), ("$hb", SqliteType.Integer));
                command.Parameters[0].Value = siloId;
                command.Parameters[1].Value = (int)status;
                command.Parameters[2].Value = UnixTime.ToMs(now);
                return command.ExecuteNonQuery();
            });
        }
    }

    public async Task<IReadOnlyList<string>> MarkDeadAsync(DateTimeOffset heartbeatBefore, CancellationToken ct)
    {
        using (await database.EnterWriteAsync(ct).ConfigureAwait(false))
        {
            return database.UsePrimary(session =>
            {
                var command = session.Command(
                    $"UPDATE xmbl_silos SET status = {Dead} WHERE status <> {Dead} AND last_heartbeat < $cutoff RETURNING silo_id",
                    ("$cutoff", SqliteType.Integer));
                command.Parameters[0].Value = UnixTime.ToMs(heartbeatBefore);
                using var reader = command.ExecuteReader();
                var ids = new List<string>();
                while (reader.Read())
                {
                    ids.Add(reader.GetString(0));
                }

                return ids;
            });
        }
    }

    public Task<IReadOnlyList<SiloEntry>> ListAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<SiloEntry>>(database.Use(session =>
        {
            var command = session.Command("SELECT silo_id, address, status, started_at, last_heartbeat FROM xmbl_silos ORDER BY started_at, silo_id");
            using var reader = command.ExecuteReader();
            var rows = new List<SiloEntry>();
            while (reader.Read())
            {
                rows.Add(new SiloEntry(reader.GetString(0), reader.GetString(1), (SiloStatus)reader.GetInt32(2), UnixTime.FromMs(reader.GetInt64(3)), UnixTime.FromMs(reader.GetInt64(4))));
            }

            return rows;
        }));
    }
}
