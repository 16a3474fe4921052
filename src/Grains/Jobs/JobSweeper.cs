using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Internal;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Persistence.Sql;

namespace Xmbl.Cluster.Grains.Jobs;

/// <summary>
/// Activates every unfinished job, so that its deadlines tick again: once when the silo starts, whenever the cluster
/// loses a silo (the jobs that were active there are idle until something calls them), and every
/// <see cref="ComputeOptions.JobSweepInterval"/>: a job whose activation went away on a storage failure (it could not
/// read its state back after a failed write) is idle too, and a sweep that failed while the database was away is
/// made good. The periodic and the silo-loss sweeps run on one silo only, the active silo with the lowest address
/// (<see cref="IsSweeper"/>): one sweep reaches every job, so N silos sweeping would only tick each job N times.
/// </summary>
/// <remarks>
/// Job ids are time-ordered and a running cluster ends every job within <see cref="JobStateMachine.LifetimeBound"/>,
/// so the first sweep starts that far back and later ones just before the oldest job the last one found unfinished.
/// </remarks>
internal sealed partial class JobSweeper(
    IGrainStateQuery query,
    IGrainFactory grains,
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    IOptions<ComputeOptions> options,
    ILogger<JobSweeper> logger) : BackgroundService
{
    private const int Page = 500;
    private readonly SemaphoreSlim _running = new(1, 1);
    private string? _cursor;

    /// <summary>Activates the unfinished jobs from the cursor on; returns how many it found.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await _running.WaitAsync(ct);
        try
        {
            var floor = JobIds.TimePrefix(time.GetUtcNow() - JobStateMachine.LifetimeBound(options.Value, options.Value.MaxWallTime));
            var after = _cursor is null || string.CompareOrdinal(_cursor, floor) < 0 ? floor : _cursor;
            string? oldestOpen = null;
            string? last = null;
            var found = 0;
            while (true)
            {
                var page = await query.ListAsync<JobGrainState>(GrainStates.Job, null, after, Page, ct);
                foreach (var entry in page)
                {
                    last = entry.Key;
                    if (!entry.State.Exists || JobRecord.IsFinalStatus(entry.State.Status))
                    {
                        continue;
                    }

                    oldestOpen ??= entry.Key;
                    found++;
                    await grains.GetGrain<IJobGrain>(entry.Key).TickAsync();
                }

                if (page.Count < Page)
                {
                    break;
                }

                after = page[^1].Key;
            }

            // Next time start just before the oldest unfinished job (or after the last one seen when all are final).
            _cursor = oldestOpen is null ? last ?? _cursor : oldestOpen[..^1] + (char)(oldestOpen[^1] - 1);
            return found;
        }
        finally
        {
            _running.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SweepLoggedAsync("start", stoppingToken);
        await Task.WhenAll(SweepOnSiloLossAsync(stoppingToken), SweepPeriodicallyAsync(stoppingToken));
    }

    private async Task SweepPeriodicallyAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await Task.Delay(options.Value.JobSweepInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (IsSweeper(SiloStatuses(membership.CurrentSnapshot), local.SiloAddress))
            {
                await SweepLoggedAsync(null, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="self"/> is the silo that sweeps for the cluster: the active silo with the lowest
    /// address. A silo not (yet) seen active sweeps too, so a cluster whose view is still forming is never left
    /// without one; when the sweeper dies, the next lowest takes over at its next sweep.
    /// </summary>
    internal static bool IsSweeper(IEnumerable<(SiloAddress Address, SiloStatus Status)> members, SiloAddress self)
    {
        foreach (var (address, status) in members)
        {
            if (status == SiloStatus.Active && address.CompareTo(self) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<(SiloAddress, SiloStatus)> SiloStatuses(ClusterMembershipSnapshot snapshot) =>
        snapshot.Members.Select(m => (m.Key, m.Value.Status));

    private async Task SweepOnSiloLossAsync(CancellationToken stoppingToken)
    {
        var active = new HashSet<SiloAddress>();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var lost = false;
                foreach (var (address, member) in snapshot.Members)
                {
                    if (member.Status == SiloStatus.Active)
                    {
                        active.Add(address);
                    }
                    else if (member.Status == SiloStatus.Dead && active.Remove(address))
                    {
                        lost = true;
                    }
                }

                if (lost && IsSweeper(SiloStatuses(snapshot), local.SiloAddress))
                {
                    await SweepLoggedAsync("a silo was lost", stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sweeps, logging what it found with <paramref name="reason"/>; a periodic sweep (no reason) logs only its failures.</summary>
    private async Task SweepLoggedAsync(string? reason, CancellationToken ct)
    {
        try
        {
            var found = await SweepAsync(ct);
            if (reason is not null)
            {
                LogSwept(found, reason);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSweepFailed(reason ?? "periodic", ex);
        }
    }

    [LoggerMessage(EventId = JobsEventId.Swept, Level = LogLevel.Information, Message = "Activated {Count} unfinished job(s) so their deadlines tick ({Reason})")]
    private partial void LogSwept(int count, string reason);

    [LoggerMessage(EventId = JobsEventId.SweepFailed, Level = LogLevel.Warning, Message = "Activating the unfinished jobs failed ({Reason})")]
    private partial void LogSweepFailed(string reason, Exception exception);
}
