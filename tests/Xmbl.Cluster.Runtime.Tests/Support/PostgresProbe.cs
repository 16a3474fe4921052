using Npgsql;

namespace Xmbl.Cluster.Runtime.Tests.Support;

/// <summary>Looks into a test PostgreSQL server's activity to wait for states instead of sleeping.</summary>
public static class PostgresProbe
{
    /// <summary>Waits until at least <paramref name="count"/> sessions of the database are blocked on a lock.</summary>
    public static async Task WaitForLockWaitersAsync(string connectionString, int count)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((long)(await command.ExecuteScalarAsync())! < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {count} lock waiter(s) appeared within 30 s.");
            }

            await Task.Delay(10); // polling interval, not a timing assertion
        }
    }
}
