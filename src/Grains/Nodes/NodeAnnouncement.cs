using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Grains.Nodes;

/// <summary>What each of this silo's nodes announces: its share of the silo's resources, the prices, where it is reached.</summary>
public sealed class NodeAnnouncement
{
    private readonly Func<IEnumerable<INodeLoadReporter>> _loadReporters;

    /// <summary>Derives the announcement from <see cref="NodeOptions"/> and the machine.</summary>
    /// <param name="options">The node options.</param>
    /// <param name="nodes">The silo's nodes.</param>
    /// <param name="address">The silo's base URL.</param>
    /// <param name="dataDirectory">The data directory, whose disk's free space bounds the default storage offer.</param>
    /// <param name="loadReporters">Sources of current load, asked for lazily (the shard stores themselves need this announcement).</param>
    /// <param name="engine">The engine that runs the silo's jobs (its name, version and optional features are announced), when it runs jobs.</param>
    public NodeAnnouncement(IOptions<NodeOptions> options, LocalNodes nodes, string address, string dataDirectory, Func<IEnumerable<INodeLoadReporter>> loadReporters, IWasmEngine? engine = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nodes);
        var o = options.Value;
        var count = nodes.All.Count;
        _loadReporters = loadReporters;

        var cores = o.Cores ?? Environment.ProcessorCount;
        var memory = o.Memory is { } m ? ByteSize.Parse(m) : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
        var storage = o.Storage is { } s ? ByteSize.Parse(s) : FreeSpace(dataDirectory) / 2;

        // Each logical node offers an equal share; a share of a core rounds up to one so every node can run a job.
        var nodeCores = Math.Max(1, cores / count);
        Resources = new NodeResources(nodeCores, memory / count, storage / count, o.Gpu, o.Concurrency ?? nodeCores, engine?.Name, engine?.Version, engine?.Features);
        Prices = new NodePrices(o.PricePerMillionFuel, o.PricePerGbMonth);
        Operator = string.IsNullOrWhiteSpace(o.Operator) ? Environment.MachineName : o.Operator;
        Address = address;
    }

    /// <summary>Each node's resources.</summary>
    public NodeResources Resources { get; }

    /// <summary>Each node's prices.</summary>
    public NodePrices Prices { get; }

    /// <summary>Who runs the nodes.</summary>
    public string Operator { get; }

    /// <summary>The silo's base URL.</summary>
    public string Address { get; }

    /// <summary>The node's load now, summed over all reporters.</summary>
    public NodeLoad CurrentLoad(LocalNode node)
    {
        var load = default(NodeLoad);
        foreach (var reporter in _loadReporters())
        {
            load += reporter.GetLoad(node);
        }

        return load;
    }

    private static long FreeSpace(string directory)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0;
        }
    }
}
