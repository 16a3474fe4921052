using Npgsql;
using Xmbl.Cluster.Runtime.Persistence;

namespace Xmbl.Cluster.Runtime.Membership;

/// <summary>The membership table in PostgreSQL.</summary>
internal sealed class PostgresMembershipTable(NpgsqlDataSource dataSource) : IMembershipTable
{
    private const int Dead = (int)SiloStatus.Dead;

    public async Task JoinAsync(SiloEntry entry, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO xmbl_silos (silo_id, address, status, started_at, last_heartbeat) VALUES ($1, $2, $3, $4, $5) " +
            $"ON CONFLICT (silo_id) DO UPDATE SET address = excluded.address, status = excluded.status, started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat WHERE xmbl_silos.status <> {Dead}");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.SiloId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Address });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)entry.Status });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(entry.StartedAt) });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(entry.LastHeartbeat) });
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<SiloStatus?> HeartbeatAsync(string siloId, DateTimeOffset now, CancellationToken ct)
    {
        // One round trip: update if alive, then report the status either way.
        await using var command = dataSource.CreateCommand(
            $"WITH hb AS (UPDATE xmbl_silos SET last_heartbeat = $2 WHERE silo_id = $1 AND status <> {Dead} RETURNING status) " +
            "SELECT COALESCE((SELECT status FROM hb), (SELECT status FROM xmbl_silos WHERE silo_id = $1))");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = siloId });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(now) });
        var status = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return status is int value ? (SiloStatus)value : null;
    }

    public async Task SetStatusAsync(string siloId, SiloStatus status, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"UPDATE xmbl_silos SET status = $2, last_heartbeat = $3 WHERE silo_id = $1 AND status <> {Dead}");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = siloId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)status });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(now) });
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> MarkDeadAsync(DateTimeOffset heartbeatBefore, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"UPDATE xmbl_silos SET status = {Dead} WHERE status <> {Dead} AND last_heartbeat < $1 RETURNING silo_id");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = UnixTime.Truncate(heartbeatBefore) });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var ids = new List<string>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public async Task<IReadOnlyList<SiloEntry>> ListAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT silo_id, address, status, started_at, last_heartbeat FROM xmbl_silos ORDER BY started_at, silo_id");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<SiloEntry>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(new SiloEntry(reader.GetString(0), reader.GetString(1), (SiloStatus)reader.GetInt32(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return rows;
    }
}
