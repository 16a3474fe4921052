using Microsoft.Data.Sqlite;
using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Membership;
using Xmbl.Cluster.Runtime.Reminders;
using Xmbl.Cluster.Runtime.Storage;

namespace Xmbl.Cluster.Runtime.Persistence.Sqlite;

/// <summary>The embedded backend: one SQLite file holds grain state, membership and reminders.</summary>
internal sealed class SqliteBackend : IPersistenceBackend
{
    public SqliteBackend(string path, int commandTimeoutSeconds, TimeProvider timeProvider)
    {
        Database = new SqliteDatabase(path, commandTimeoutSeconds);
        States = new SqliteGrainStateStore(Database, timeProvider);
        Membership = new SqliteMembershipTable(Database);
        Reminders = new SqliteReminderTable(Database);
    }

    public string Name => "Sqlite";

    public SqliteDatabase Database { get; }

    public IGrainStateStore States { get; }

    public IMembershipTable Membership { get; }

    public IReminderTable Reminders { get; }

    public AsyncSignal ReminderChanged => Database.Shared.ReminderChanged;

    public Task InitializeAsync(CancellationToken ct)
    {
        try
        {
            var session = Database.Rent();
            try
            {
                using var command = session.Connection.CreateCommand();
                command.CommandText = SchemaScripts.Sqlite;
                command.ExecuteNonQuery();
            }
            finally
            {
                Database.Return(session);
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new GrainRuntimeStartupException(
                $"Cannot open or initialize the SQLite database '{Database.FullPath}' (Xmbl:Persistence:SqlitePath): {ex.Message} " +
                "Check that the directory exists or can be created and is writable by this process, and that the file is a SQLite database.", ex);
        }

        return Task.CompletedTask;
    }

    public Task ListenAsync(CancellationToken ct) => Task.CompletedTask;

    public void Dispose() => Database.Dispose();

    public ValueTask DisposeAsync()
    {
        Database.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Runs one statement on a pooled session.</summary>
internal static class SqliteSessionExtensions
{
    public static T Use<T>(this SqliteDatabase database, Func<SqliteSession, T> action)
    {
        var session = database.Rent();
        try
        {
            return action(session);
        }
        catch (SqliteException)
        {
            session.Broken = true;
            throw;
        }
        finally
        {
            database.Return(session);
        }
    }
}
