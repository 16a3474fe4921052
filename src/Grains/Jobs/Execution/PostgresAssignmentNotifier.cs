using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Cluster mode: tells the silo hosting a node about its new assignment with PostgreSQL <c>NOTIFY</c>, and listens
/// for this silo's nodes; and announces a local node's load whenever one of its assignments finishes, so that every
/// silo's scheduler sees the freed slot at once. A lost notification costs latency only: the executors' poll finds
/// the assignment, and the next heartbeat carries the load.
/// </summary>
internal sealed partial class PostgresAssignmentNotifier : BackgroundService, IAssignmentNotifier
{
    /// <summary>The notification channel.</summary>
    public const string Channel = "xmbl_job_assigned";

    /// <summary>The channel of node load announcements: <c>nodeId queuedOrRunning</c>.</summary>
    public const string LoadChannel = "xmbl_node_load";

    /// <summary>The channel of job changes: the job id.</summary>
    public const string ChangeChannel = "xmbl_job_changed";

    /// <summary>The channel of cancelled jobs: the job id.</summary>
    public const string CancelChannel = "xmbl_job_cancelled";

    /// <summary>Notifications sent in one round trip at most.</summary>
    private const int MaxBatch = 256;

    private readonly Channel<(string Channel, string Payload)> _outbox = System.Threading.Channels.Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly JobScheduler _scheduler;
    private readonly JobEvents _events;
    private readonly NpgsqlDataSource _dataSource;
    private readonly JobExecutorHost _executors;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresAssignmentNotifier> _logger;

    public PostgresAssignmentNotifier(IConfiguration configuration, JobExecutorHost executors, JobScheduler scheduler, JobEvents events, TimeProvider time, ILogger<PostgresAssignmentNotifier> logger)
    {
        var connectionString = configuration[SiloConfiguration.ConnectionStringKey]
            ?? throw new InvalidOperationException($"Cluster mode needs {SiloConfiguration.ConnectionStringKey}.");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _executors = executors;
        _scheduler = scheduler;
        _events = events;
        _time = time;
        _logger = logger;
        foreach (var executor in executors.Executors)
        {
            executor.Finished = e => _outbox.Writer.TryWrite((LoadChannel, FormatLoad(e.Node.Id, e.Known)));
        }
    }

    public void Notify(JobDispatch dispatch) => _outbox.Writer.TryWrite((Channel, Format(dispatch)));

    public void JobChanged(string jobId) => _outbox.Writer.TryWrite((ChangeChannel, jobId));

    public void JobCancelled(string jobId) => _outbox.Writer.TryWrite((CancelChannel, jobId));

    public override void Dispose()
    {
        _dataSource.Dispose();
        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(SendLoopAsync(stoppingToken), ListenLoopAsync(stoppingToken));

    private async Task SendLoopAsync(CancellationToken ct)
    {
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(ct))
            {
                try
                {
                    await using var connection = await _dataSource.OpenConnectionAsync(ct);
                    while (_outbox.Reader.TryPeek(out _))
                    {
                        // Everything queued goes in one round trip (several transitions of one job, once).
                        var batch = new HashSet<(string Channel, string Payload)>();
                        while (batch.Count < MaxBatch && _outbox.Reader.TryRead(out var message))
                        {
                            batch.Add(message);
                        }

                        await using var command = new NpgsqlBatch(connection);
                        foreach (var (channel, payload) in batch)
                        {
                            var notify = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
                            notify.Parameters.AddWithValue(channel);
                            notify.Parameters.AddWithValue(payload);
                            command.BatchCommands.Add(notify);
                        }

                        await command.ExecuteNonQueryAsync(ct);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
                {
                    LogNotifyFailed(ex);
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task ListenLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (e.Channel == ChangeChannel)
                    {
                        _events.Notify(e.Payload);
                    }
                    else if (e.Channel == CancelChannel)
                    {
                        _executors.Cancel(e.Payload);
                    }
                    else if (e.Channel == LoadChannel)
                    {
                        if (ParseLoad(e.Payload) is { } load)
                        {
                            _scheduler.ObserveLoad(load.NodeId, load.Known);
                        }
                    }
                    else if (Parse(e.Payload) is { } dispatch && _executors.IsLocal(dispatch.NodeId))
                    {
                        _executors.TryDispatch(dispatch);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {LoadChannel}; LISTEN {ChangeChannel}; LISTEN {CancelChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                // From here on no assignment notification is lost; what was sent before is found by one scan now.
                _executors.Listening = true;
                _executors.RequestScan();

                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                _executors.Listening = false;
                LogNotifyFailed(ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Payload: <c>nodeId jobId assignmentId role</c> (ids contain no spaces).</summary>
    internal static string Format(JobDispatch d) =>
        string.Join(' ', d.NodeId, d.JobId, d.AssignmentId.ToString(CultureInfo.InvariantCulture), ((int)d.Role).ToString(CultureInfo.InvariantCulture));

    internal static JobDispatch? Parse(string payload)
    {
        var parts = payload.Split(' ');
        return parts.Length == 4
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var assignment)
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var role)
            && Enum.IsDefined((JobRole)role)
            && JobIds.IsValid(parts[1])
                ? new JobDispatch(parts[1], assignment, parts[0], (JobRole)role, null)
                : null;
    }

    /// <summary>Load payload: <c>nodeId known</c>.</summary>
    internal static string FormatLoad(string nodeId, int known) => nodeId + " " + known.ToString(CultureInfo.InvariantCulture);

    internal static (string NodeId, int Known)? ParseLoad(string payload)
    {
        var parts = payload.Split(' ');
        return parts.Length == 2 && parts[0].Length > 0 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var known)
            ? (parts[0], known)
            : null;
    }

    [LoggerMessage(EventId = JobsEventId.NotifyFailed, Level = LogLevel.Warning, Message = "Job assignment notification over PostgreSQL failed; executors fall back to polling")]
    private partial void LogNotifyFailed(Exception exception);
}
