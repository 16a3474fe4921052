using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Options;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>Registers this silo's nodes in the node registry, heartbeats for them, and retires them on a clean stop.</summary>
public sealed partial class NodeAnnouncer : BackgroundService
{
    private readonly LocalNodes _nodes;
    private readonly IGrainFactory _grains;
    private readonly ILocalSiloDetails _silo;
    private readonly NodeOptions _options;
    private readonly NodeAnnouncement _announcement;
    private readonly TimeProvider _time;
    private readonly ILogger<NodeAnnouncer> _logger;
    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the announcer.</summary>
    public NodeAnnouncer(
        LocalNodes nodes,
        IGrainFactory grains,
        ILocalSiloDetails silo,
        IOptions<NodeOptions> options,
        NodeAnnouncement announcement,
        [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
        ILogger<NodeAnnouncer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _nodes = nodes;
        _grains = grains;
        _silo = silo;
        _options = options.Value;
        _announcement = announcement;
        _time = time;
        _logger = logger;
    }

    /// <summary>Completes once every local node has registered.</summary>
    public Task Registered => _registered.Task;

    /// <inheritdoc/>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Register before the host reports started, so /api/cluster lists the nodes as soon as the silo answers.
        await RegisterAllAsync();
        await base.StartAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var now = _time.GetUtcNow();
        foreach (var node in _nodes.All)
        {
            try
            {
                await _grains.GetGrain<INodeGrain>(node.Id).RetireAsync(now);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The database may already be gone at shutdown; heartbeats stop anyway, so the node will be seen dead.
                LogRetireFailed(node.Id, ex);
            }
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.HeartbeatPeriod, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var now = _time.GetUtcNow();
            foreach (var node in _nodes.All)
            {
                if (!_nodes.IsOnline(node))
                {
                    continue;
                }

                try
                {
                    var load = _announcement.CurrentLoad(node);
                    await _grains.GetGrain<INodeGrain>(node.Id).HeartbeatAsync(new NodeHeartbeat(now, load.RunningJobs, load.UsedStorageBytes, load.ReservedMemoryBytes, load.Unhealthy));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A missed heartbeat is survivable; the next one may get through before the node counts as dead.
                    LogHeartbeatFailed(node.Id, ex);
                }
            }
        }
    }

    private async Task RegisterAllAsync()
    {
        var now = _time.GetUtcNow();
        foreach (var node in _nodes.All)
        {
            var registration = new NodeRegistration(
                node.Id,
                _silo.Name,
                _announcement.Address,
                _announcement.Operator,
                _announcement.Resources,
                _announcement.Prices,
                now);
            var registered = await _grains.GetGrain<INodeGrain>(node.Id).RegisterAsync(registration);
            // What the operator changed at run time before this start still holds.
            _announcement.Apply(node, registered.Resources);
            LogRegistered(node.Index, node.Id);
        }

        _registered.TrySetResult();
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Node {Index} registered as {NodeId}")]
    private partial void LogRegistered(int index, string nodeId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Heartbeat of node {NodeId} failed")]
    private partial void LogHeartbeatFailed(string nodeId, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Retiring node {NodeId} at shutdown failed")]
    private partial void LogRetireFailed(string nodeId, Exception exception);
}
