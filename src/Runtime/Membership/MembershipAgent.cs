using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Runtime.Internal;
using Xmbl.Cluster.Runtime.Options;

namespace Xmbl.Cluster.Runtime.Membership;

/// <summary>
/// This silo's membership: joins, heartbeats every <see cref="SiloOptions.HeartbeatPeriod"/>, declares silos dead
/// whose heartbeat is older than <see cref="SiloOptions.DeathTimeout"/>, and leaves cleanly on stop. A silo that
/// finds itself declared dead stops the application (its id never comes back).
/// </summary>
internal sealed partial class MembershipAgent(
    IMembershipTable table,
    SiloOptions options,
    TimeProvider timeProvider,
    IHostApplicationLifetime? lifetime,
    ILogger logger)
{
    /// <summary>Reported after each heartbeat + death check; for tests.</summary>
    public ProgressTracker Progress { get; } = new();

    /// <summary>When set, heartbeats are skipped (the silo looks hung to others); for tests.</summary>
    public volatile bool PauseHeartbeats;

    public async Task JoinAsync(CancellationToken ct)
    {
        var now = timeProvider.GetUtcNow();
        await table.JoinAsync(new SiloEntry(options.SiloId, options.Address, SiloStatus.Joining, now, now), ct).ConfigureAwait(false);
        await table.SetStatusAsync(options.SiloId, SiloStatus.Active, now, ct).ConfigureAwait(false);
        LogJoined(options.SiloId, options.Address);
    }

    /// <summary>Arms the heartbeat timer now (so the first beat is one period after start) and runs the loop in the background.</summary>
    public Task StartLoop(CancellationToken ct)
    {
        var timer = new PeriodicTimer(options.HeartbeatPeriod, timeProvider);
        return Task.Run(() => RunAsync(timer, ct), CancellationToken.None);
    }

    private async Task RunAsync(PeriodicTimer timer, CancellationToken ct)
    {
        using var _ = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (!await TickAsync(ct).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>One heartbeat and death check; false if this silo was declared dead.</summary>
    internal async Task<bool> TickAsync(CancellationToken ct)
    {
        var now = timeProvider.GetUtcNow();
        try
        {
            if (!PauseHeartbeats)
            {
                var status = await table.HeartbeatAsync(options.SiloId, now, ct).ConfigureAwait(false);
                if (status is SiloStatus.Dead or null)
                {
                    LogLocalDead(options.SiloId);
                    lifetime?.StopApplication();
                    return false;
                }

                foreach (var dead in await table.MarkDeadAsync(now - options.DeathTimeout, ct).ConfigureAwait(false))
                {
                    LogDeclaredDead(dead, options.DeathTimeout);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A database blip must not kill the loop; if it lasts longer than DeathTimeout others declare us dead.
            LogHeartbeatFailed(ex, options.SiloId);
        }
        finally
        {
            Progress.Report(now);
        }

        return true;
    }

    public async Task LeaveAsync(CancellationToken ct)
    {
        var now = timeProvider.GetUtcNow();
        await table.SetStatusAsync(options.SiloId, SiloStatus.ShuttingDown, now, ct).ConfigureAwait(false);
        await table.SetStatusAsync(options.SiloId, SiloStatus.Dead, now, ct).ConfigureAwait(false);
        LogLeft(options.SiloId);
    }

    [LoggerMessage(EventId = RuntimeEventId.SiloJoined, Level = LogLevel.Information, Message = "Silo {SiloId} joined the cluster as Active (address {Address})")]
    private partial void LogJoined(string siloId, string address);

    [LoggerMessage(EventId = RuntimeEventId.SiloDeclaredDead, Level = LogLevel.Warning, Message = "Silo {SiloId} declared dead: no heartbeat for more than {DeathTimeout}")]
    private partial void LogDeclaredDead(string siloId, TimeSpan deathTimeout);

    [LoggerMessage(EventId = RuntimeEventId.LocalSiloDeclaredDead, Level = LogLevel.Critical, Message = "This silo ({SiloId}) has been declared dead by the cluster (or its row is gone); stopping the application")]
    private partial void LogLocalDead(string siloId);

    [LoggerMessage(EventId = RuntimeEventId.HeartbeatFailed, Level = LogLevel.Error, Message = "Heartbeat of silo {SiloId} failed; retrying next period")]
    private partial void LogHeartbeatFailed(Exception ex, string siloId);

    [LoggerMessage(EventId = RuntimeEventId.SiloLeft, Level = LogLevel.Information, Message = "Silo {SiloId} left the cluster")]
    private partial void LogLeft(string siloId);
}
