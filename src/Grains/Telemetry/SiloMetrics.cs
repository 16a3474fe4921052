using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Telemetry;

/// <summary>
/// Gauges read when metrics are collected, per host (made through <see cref="IMeterFactory"/>, so two silos in one
/// process each report their own): per local node the shard bytes held and the runs in flight, and what the last repair
/// pass found. Resolved only when telemetry is on; a standalone gateway hosts no nodes and reports none of these.
/// </summary>
public sealed class SiloMetrics
{
    private readonly LocalNodes? _nodes;
    private readonly IEnumerable<INodeLoadReporter> _reporters;
    private readonly StorageRepairService? _repairs;

    /// <summary>Registers the gauges on a meter of <paramref name="meters"/>.</summary>
    public SiloMetrics(IMeterFactory meters, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _nodes = services.GetService<LocalNodes>();
        _reporters = services.GetServices<INodeLoadReporter>();
        _repairs = services.GetService<StorageRepairService>();
        var meter = meters.Create(ClusterTelemetry.Name);
        meter.CreateObservableGauge("xmbl.storage.bytes", () => PerNode(static l => l.UsedStorageBytes), "By", "Shard bytes held by each local node.");
        meter.CreateObservableGauge("xmbl.jobs.running", () => PerNode(static l => l.RunningJobs), "{run}", "Runs in flight on each local node.");
        meter.CreateObservableGauge(
            "xmbl.storage.stripes.unrecoverable",
            () => _repairs?.LastPass is { } pass ? [new Measurement<long>(pass.Unrecoverable)] : Array.Empty<Measurement<long>>(),
            "{stripe}",
            "Stripes the last repair pass could not rebuild (fewer healthy shards than data shards): 0 when every object is readable.");
        meter.CreateObservableGauge(
            "xmbl.storage.objects.checked",
            () => _repairs?.LastPass is { } pass ? [new Measurement<long>(pass.CheckedObjects)] : Array.Empty<Measurement<long>>(),
            "{object}",
            "Objects the last repair pass checked.");
    }

    private IEnumerable<Measurement<long>> PerNode(Func<NodeLoad, long> pick)
    {
        if (_nodes is null)
        {
            yield break;
        }

        foreach (var node in _nodes.All)
        {
            var load = default(NodeLoad);
            foreach (var reporter in _reporters)
            {
                load += reporter.GetLoad(node);
            }

            yield return new Measurement<long>(pick(load), new KeyValuePair<string, object?>(ClusterTelemetry.NodeTag, node.Id));
        }
    }
}
