using Xmbl.Cluster.Grains.Interfaces.Objects;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Options;

namespace Xmbl.Cluster.Grains.Objects;

/// <summary>Runs repair passes on this silo when the repair reminder fires (or an operator asks), one at a time.</summary>
public sealed partial class StorageRepairService : BackgroundService
{
    private readonly ObjectService _objects;
    private readonly IGrainFactory _grains;
    private readonly ObjectStorageOptions _options;
    private readonly ILogger<StorageRepairService> _logger;
    private readonly SemaphoreSlim _trigger = new(0, 1);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Creates the service.</summary>
    public StorageRepairService(ObjectService objects, IGrainFactory grains, IOptions<ObjectStorageOptions> options, ILogger<StorageRepairService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _objects = objects;
        _grains = grains;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Whether a pass is running on this silo now.</summary>
    public bool IsRunning => _oneAtATime.CurrentCount == 0;

    /// <summary>The last pass's result, or null before the first.</summary>
    public RepairPassResult? LastPass { get; private set; }

    /// <summary>Asks for a pass soon; a request while one is pending is merged into it.</summary>
    public void Trigger()
    {
        try
        {
            _trigger.Release();
        }
        catch (SemaphoreFullException)
        {
            // A pass is already requested.
        }
    }

    /// <summary>Runs a pass now (waiting for a running one to finish first).</summary>
    public async Task<RepairPassResult> RunPassAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var result = await _objects.RepairAllAsync(cancellationToken);
            LastPass = result;
            Telemetry.ClusterTelemetry.RepairPass(result.RepairedShards);
            LogPass(result.CheckedObjects, result.RepairedObjects, result.RepairedShards, result.Unrecoverable, result.OrphansDeleted);
            return result;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Zero turns the reminder off, also one stored by an earlier start.
        await _grains.GetGrain<IStorageRepairGrain>(IStorageRepairGrain.ClusterKey).ScheduleAsync(_options.RepairPeriod);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _trigger.WaitAsync(stoppingToken);
                await RunPassAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A failed pass is retried at the next tick; the service keeps running.
                LogPassFailed(ex);
            }
        }
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Repair pass: {Checked} objects checked, {Repaired} repaired ({Shards} shards), {Unrecoverable} unrecoverable, {Orphans} orphan shards deleted")]
    private partial void LogPass(int @checked, int repaired, int shards, int unrecoverable, int orphans);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Error, Message = "Repair pass failed")]
    private partial void LogPassFailed(Exception exception);
}
