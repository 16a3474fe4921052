using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>
/// A <see cref="DbDataSource"/> for SQLite whose connections, when opened, apply a <c>PRAGMA synchronous</c> level and
/// let SQLite itself wait for the write lock (<c>busy_timeout</c>, the connection string's <c>Default Timeout</c>).
/// Give it to the AdoNet providers' <c>DataSource</c> option instead of a connection string, which can set neither.
/// </summary>
/// <remarks>
/// Without a busy timeout, Microsoft.Data.Sqlite answers a busy write lock by sleeping 150 ms and retrying, so
/// concurrent grain writes queue in 150 ms steps; SQLite's own handler retries after 1, 2, 5, 10… ms.
/// </remarks>
public sealed class SqliteConnectionSource : DbDataSource
{
    private readonly string _pragma;

    /// <summary>Creates the source.</summary>
    /// <param name="connectionString">A <c>Microsoft.Data.Sqlite</c> connection string (<c>Data Source=path</c>).</param>
    /// <param name="synchronous">The durability of a commit; <see cref="SqliteSynchronous.Normal"/> by default, as in WAL mode it survives process crashes.</param>
    public SqliteConnectionSource(string connectionString, SqliteSynchronous synchronous = SqliteSynchronous.Normal)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (!Enum.IsDefined(synchronous))
        {
            throw new ArgumentOutOfRangeException(nameof(synchronous), synchronous, "Use Normal or Full.");
        }

        var builder = new SqliteConnectionStringBuilder(connectionString);
        ConnectionString = builder.ToString();
        Synchronous = synchronous;
        var busyTimeoutMs = (long)builder.DefaultTimeout * 1000;
        _pragma = (synchronous == SqliteSynchronous.Full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;") +
                  $"PRAGMA busy_timeout={busyTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture)};";
    }

    /// <inheritdoc/>
    public override string ConnectionString { get; }

    /// <summary>The synchronous level every connection gets.</summary>
    public SqliteSynchronous Synchronous { get; }

    /// <inheritdoc/>
    protected override DbConnection CreateDbConnection() => new TunedConnection(ConnectionString, _pragma);

    // Opening, wherever it happens (OpenAsync falls back to Open), applies the pragmas: pooled handles may be new.
    private sealed class TunedConnection(string connectionString, string pragma) : SqliteConnection(connectionString)
    {
        public override void Open()
        {
            base.Open();
            using var command = CreateCommand();
            command.CommandText = pragma;
            command.ExecuteNonQuery();
        }
    }
}
