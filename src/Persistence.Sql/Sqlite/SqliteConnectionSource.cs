using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>
/// A <see cref="DbDataSource"/> for SQLite whose connections apply a <c>PRAGMA synchronous</c> level when opened. Give
/// it to the AdoNet providers' <c>DataSource</c> option (instead of a connection string) to choose the durability of
/// a commit: <c>synchronous</c> is per connection, and a connection string cannot set it.
/// </summary>
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

        ConnectionString = new SqliteConnectionStringBuilder(connectionString).ToString();
        Synchronous = synchronous;
        _pragma = synchronous == SqliteSynchronous.Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    }

    /// <inheritdoc/>
    public override string ConnectionString { get; }

    /// <summary>The synchronous level every connection gets.</summary>
    public SqliteSynchronous Synchronous { get; }

    /// <inheritdoc/>
    protected override DbConnection CreateDbConnection() => new TunedConnection(ConnectionString, _pragma);

    // Opening, wherever it happens (OpenAsync falls back to Open), applies the pragma: pooled handles may be new.
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
