using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Membership;
using Xmbl.Cluster.Runtime.Options;
using Xmbl.Cluster.Runtime.Reminders;
using Xmbl.Cluster.Runtime.Storage;

namespace Xmbl.Cluster.Runtime.Persistence.Postgres;

/// <summary>The cluster backend: one PostgreSQL database shared by every silo and gateway.</summary>
internal sealed partial class PostgresBackend : IPersistenceBackend
{
    /// <summary>The channel reminder changes are announced on (NOTIFY), so silos wake up without waiting for the poll.</summary>
    public const string ReminderChannel = "xmbl_reminders";

    // Serializes schema creation across silos starting at once (CREATE ... IF NOT EXISTS races on the catalog).
    private const long SchemaLockKey = 0x786d626c_00000001;

    private readonly string _listenConnectionString;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PostgresBackend> _logger;

    public PostgresBackend(PersistenceOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            Timeout = options.ConnectTimeoutSeconds,
            CommandTimeout = options.CommandTimeoutSeconds,
        };
        if (builder.MaxAutoPrepare == 0)
        {
            // Every statement here is short and repeated; prepared statements save the parse/plan on each call.
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        builder.NoResetOnClose = true;
        builder.ApplicationName ??= "xmbl-cluster";
        Target = $"{builder.Host}:{builder.Port}/{builder.Database}";
        var dataSourceBuilder = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        dataSourceBuilder.UseLoggerFactory(loggerFactory);
        DataSource = dataSourceBuilder.Build();
        _listenConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, MaxAutoPrepare = 0, KeepAlive = 15 }.ConnectionString;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger<PostgresBackend>();
        ConnectTimeoutSeconds = options.ConnectTimeoutSeconds;
        States = new PostgresGrainStateStore(DataSource, timeProvider);
        Membership = new PostgresMembershipTable(DataSource);
        Reminders = new PostgresReminderTable(DataSource);
    }

    public string Name => "Postgres";

    /// <summary>host:port/database, for messages (no credentials).</summary>
    public string Target { get; }

    public int ConnectTimeoutSeconds { get; }

    public NpgsqlDataSource DataSource { get; }

    public IGrainStateStore States { get; }

    public IMembershipTable Membership { get; }

    public IReminderTable Reminders { get; }

    public AsyncSignal ReminderChanged { get; } = new();

    public async Task InitializeAsync(CancellationToken ct)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await DataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            throw new GrainRuntimeStartupException(
                $"Cannot connect to PostgreSQL at {Target} (Xmbl:Persistence:ConnectionString) within {ConnectTimeoutSeconds}s: {ex.Message} " +
                "Check that the server is running and reachable from this machine, that the database exists, and the user name and password.", ex);
        }

        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await using var command = new NpgsqlCommand(
                    $"BEGIN; SELECT pg_advisory_xact_lock({SchemaLockKey}); {SchemaScripts.Postgres}\nCOMMIT;", connection);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            catch (PostgresException ex)
            {
                throw new GrainRuntimeStartupException(
                    $"Cannot create the grain runtime schema in PostgreSQL database {Target}: {ex.MessageText} ({ex.SqlState}). " +
                    "The user needs CREATE rights on the database's schema, or apply deploy/sql/postgres.sql as an administrator.", ex);
            }
        }
    }

    public async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var connection = new NpgsqlConnection(_listenConnectionString);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += (_, _) => ReminderChanged.Set();
                    await connection.OpenAsync(ct).ConfigureAwait(false);
                    await using (var listen = new NpgsqlCommand($"LISTEN {ReminderChannel}", connection))
                    {
                        await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    }

                    // Changes made while we were not listening are found by the next poll anyway.
                    ReminderChanged.Set();
                    while (true)
                    {
                        await connection.WaitAsync(ct).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Polling keeps reminders working meanwhile.
                LogListenFailed(ex, Target);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), _timeProvider, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public void Dispose() => DataSource.Dispose();

    public async ValueTask DisposeAsync() => await DataSource.DisposeAsync().ConfigureAwait(false);

    [LoggerMessage(EventId = RuntimeEventId.NotificationListenerFailed, Level = LogLevel.Warning, Message = "Listening for reminder notifications on {Target} failed; falling back to polling and retrying")]
    private partial void LogListenFailed(Exception ex, string target);
}
