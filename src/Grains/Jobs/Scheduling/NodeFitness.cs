using System.Globalization;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Grains.Jobs.Scheduling;

/// <summary>
/// Ranks nodes for a job. Eligible: alive, not excluded, running the engine asked for (validators: the executor's) and
/// every optional feature the module uses, not an edge node when the job reads or writes stored objects, a free slot,
/// room for the run's memory, price at most the job's maximum, reputation at least the minimum. Fitness: a weighted sum of reputation, free capacity, recent latency and price.
/// </summary>
internal static class NodeFitness
{
    public const double ReputationWeight = 0.45;
    public const double FreeCapacityWeight = 0.25;
    public const double LatencyWeight = 0.2;
    public const double PriceWeight = 0.1;

    /// <summary>Latency at which the latency term halves.</summary>
    public const double LatencyScaleMs = 20;

    /// <summary>Width of the per-job jitter that spreads jobs over equally fit nodes.</summary>
    public const double JitterWidth = 0.02;

    public static bool IsEligible(NodeCandidate node, decimal? maxPrice, double minReputation, IReadOnlyCollection<string> excluded, long memoryBytes = 0, string? engine = null, IReadOnlyList<string>? features = null, bool storedObjects = false) =>
        (engine is null || string.Equals(node.Engine, engine, StringComparison.Ordinal))
        && WasmFeatures.FirstMissing(features, node.EngineFeatures) is null
        && !(storedObjects && node.Edge)
        && node.Alive
        && node.FreeSlots > 0
        && node.FreeMemoryBytes >= memoryBytes
        && (maxPrice is null || node.PricePerMillionFuel <= maxPrice.Value)
        && node.Reputation >= minReputation
        && !excluded.Contains(node.NodeId);

    /// <summary>Why a node is not eligible, or null when it is; the checks of <see cref="IsEligible"/>, in that order.</summary>
    public static string? Ineligibility(NodeCandidate node, decimal? maxPrice, double minReputation, IReadOnlyCollection<string> excluded, long memoryBytes = 0, string? engine = null, IReadOnlyList<string>? features = null, bool storedObjects = false)
    {
        if (excluded.Contains(node.NodeId))
        {
            return "already on the job";
        }

        if (engine is not null && !string.Equals(node.Engine, engine, StringComparison.Ordinal))
        {
            return $"not running the executor's engine ({engine})";
        }

        if (WasmFeatures.FirstMissing(features, node.EngineFeatures) is { } missing)
        {
            return $"running an engine ({node.Engine ?? "not announced"}) without {missing}, which the module uses";
        }

        if (storedObjects && node.Edge)
        {
            return "an edge node, which has no storage proxy for the job's stored objects";
        }

        if (!node.Alive)
        {
            return "offline";
        }

        if (node.Reputation < minReputation)
        {
            return $"reputation below {minReputation.ToString(CultureInfo.InvariantCulture)}";
        }

        if (maxPrice is { } max && node.PricePerMillionFuel > max)
        {
            return $"price above {max.ToString(CultureInfo.InvariantCulture)}";
        }

        if (node.FreeSlots <= 0)
        {
            return "busy";
        }

        if (node.FreeMemoryBytes < memoryBytes)
        {
            // Say whether waiting can help: a run larger than the node's whole memory never fits there.
            return node.MemoryBytes < memoryBytes
                ? $"announces {Mib(node.MemoryBytes)} MiB of memory, the run needs {Mib(memoryBytes)} MiB"
                : $"has {Mib(node.FreeMemoryBytes)} MiB of memory free, the run needs {Mib(memoryBytes)} MiB";
        }

        return null;
    }

    private static string Mib(long bytes) => (bytes >> 20).ToString(CultureInfo.InvariantCulture);

    /// <summary>Every node's reason, grouped: "nodes a, b already on the job; c offline"; the text a job fails with.</summary>
    public static string Explain(IEnumerable<NodeCandidate> nodes, decimal? maxPrice, double minReputation, IReadOnlyCollection<string> excluded, long memoryBytes = 0, string? engine = null, IReadOnlyList<string>? features = null, bool storedObjects = false)
    {
        var groups = new List<(string Reason, List<string> Nodes)>();
        foreach (var node in nodes)
        {
            var reason = Ineligibility(node, maxPrice, minReputation, excluded, memoryBytes, engine, features, storedObjects) ?? "eligible now";
            var group = groups.FindIndex(g => string.Equals(g.Reason, reason, StringComparison.Ordinal));
            if (group < 0)
            {
                groups.Add((reason, [node.NodeId]));
            }
            else
            {
                groups[group].Nodes.Add(node.NodeId);
            }
        }

        if (groups.Count == 0)
        {
            return "no nodes are registered";
        }

        return string.Join("; ", groups.Select(g => $"{(g.Nodes.Count == 1 ? "node" : "nodes")} {string.Join(", ", g.Nodes)} {g.Reason}"));
    }

    /// <summary>The fitness of an eligible node, higher is better.</summary>
    public static double Score(NodeCandidate node, decimal? maxPrice)
    {
        var free = node.Concurrency <= 0 ? 0 : (double)node.FreeSlots / node.Concurrency;
        // Unknown latency counts as the best: a new node gets tried, and then measured.
        var latency = node.LatencyMs is { } ms ? 1 / (1 + (Math.Max(0, ms) / LatencyScaleMs)) : 1;
        var price = maxPrice is { } max && max > 0 ? 1 - (double)(node.PricePerMillionFuel / max) : 1 / (1 + (double)node.PricePerMillionFuel);
        return (ReputationWeight * node.Reputation) + (FreeCapacityWeight * free) + (LatencyWeight * latency) + (PriceWeight * Math.Clamp(price, 0, 1));
    }

    /// <summary>
    /// Picks the fittest eligible node, preferring nodes whose operator is not in <paramref name="avoidOperators"/>,
    /// then nodes to try (<see cref="IsToTry"/>); a small jitter derived from the job id spreads jobs over nodes of
    /// equal fitness.
    /// </summary>
    public static NodeCandidate? Pick(
        IEnumerable<NodeCandidate> nodes,
        string jobId,
        decimal? maxPrice,
        double minReputation,
        IReadOnlyCollection<string> excluded,
        IReadOnlyCollection<string> avoidOperators,
        long memoryBytes = 0,
        string? engine = null,
        IReadOnlyList<string>? features = null,
        bool storedObjects = false)
    {
        NodeCandidate? best = null;
        var bestScore = double.NegativeInfinity;
        var bestPreferred = false;
        var bestToTry = false;
        foreach (var node in nodes)
        {
            if (!IsEligible(node, maxPrice, minReputation, excluded, memoryBytes, engine, features, storedObjects))
            {
                continue;
            }

            var preferred = !avoidOperators.Contains(node.Operator);
            var toTry = IsToTry(node);
            var score = Score(node, maxPrice) + Jitter(jobId, node.NodeId);
            if ((preferred && !bestPreferred)
                || (preferred == bestPreferred && ((toTry && !bestToTry) || (toTry == bestToTry && score > bestScore))))
            {
                best = node;
                bestScore = score;
                bestPreferred = preferred;
                bestToTry = toTry;
            }
        }

        return best;
    }

    /// <summary>
    /// An untried node with no bad record goes before the tried ones, so it gets one run and its latency is measured.
    /// By score alone it could wait for ever: the latency term of an unknown node (the best) outweighs a fast node's by
    /// only a few hundredths, less than what the tried nodes keep earning in reputation by agreeing.
    /// </summary>
    private static bool IsToTry(NodeCandidate node) => node.Untried && node.Reputation >= NodeReputation.InitialScore;

    private static double Jitter(string jobId, string nodeId)
    {
        // FNV-1a over both ids: stable across processes (string.GetHashCode is randomized per process).
        var h = 14695981039346656037UL;
        foreach (var c in jobId)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        h = (h ^ '|') * 1099511628211UL;
        foreach (var c in nodeId)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        // splitmix64 finalizer, so the last characters move the high bits too.
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return (h / (double)ulong.MaxValue) * JitterWidth;
    }
}
