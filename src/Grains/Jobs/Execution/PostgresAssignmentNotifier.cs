using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Grains.Jobs.Execution;

/// <summary>
/// Cluster mode: tells the silo hosting a node about its new assignment with PostgreSQL <c>NOTIFY</c>, and listens
/// for this silo's nodes. A lost notification costs latency only: the executors' poll finds the assignment.
/// </summary>
internal sealed partial class PostgresAssignmentNotifier : BackgroundService, IAssignmentNotifier
{
    /// <summary>The notification channel.</summary>
    public const string Channel = "xmbl_job_assigned";

    private readonly Channel<JobDispatch> _outbox = System.Threading.Channels.Channel.CreateUnbounded<JobDispatch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource _dataSource;
    private readonly JobExecutorHost _executors;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresAssignmentNotifier> _logger;

    public PostgresAssignmentNotifier(IConfiguration configuration, JobExecutorHost executors, TimeProvider time, ILogger<PostgresAssignmentNotifier> logger)
    {
        var connectionString = configuration[SiloConfiguration.ConnectionStringKey]
            ?? throw new InvalidOperationException($"Cluster mode needs {SiloConfiguration.ConnectionStringKey}.");
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _executors = executors;
        _time = time;
        _logger = logger;
    }

    public void Notify(JobDispatch dispatch) => _outbox.Writer.TryWrite(dispatch);

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
                    while (_outbox.Reader.TryRead(out var dispatch))
                    {
                        await using var command = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection);
                        command.Parameters.AddWithValue(Channel);
                        command.Parameters.AddWithValue(Format(dispatch));
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
                    if (Parse(e.Payload) is { } dispatch && _executors.IsLocal(dispatch.NodeId))
                    {
                        _executors.TryDispatch(dispatch);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

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

    [LoggerMessage(EventId = JobsEventId.NotifyFailed, Level = LogLevel.Warning, Message = "Job assignment notification over PostgreSQL failed; executors fall back to polling")]
    private partial void LogNotifyFailed(Exception exception);
}
