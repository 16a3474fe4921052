namespace Xmbl.Cluster.Grains.Jobs.Scheduling;

/// <summary>A node as the scheduler sees it at one moment.</summary>
/// <param name="NodeId">The node.</param>
/// <param name="Operator">Who runs it.</param>
/// <param name="Alive">Heartbeating and not retired.</param>
/// <param name="Concurrency">Jobs it runs at once at most (its advertised concurrency).</param>
/// <param name="Running">Slots in use: the larger of this scheduler's reservations and the node's last heartbeat.</param>
/// <param name="PricePerMillionFuel">Its price.</param>
/// <param name="Reputation">Its reputation, 0 to 1.</param>
/// <param name="LatencyMs">Recent run latency (moving average), or null when unknown.</param>
/// <param name="MemoryBytes">Memory the node announced for runs.</param>
/// <param name="ReservedMemoryBytes">Memory of the runs it has now (<see cref="Execution.RunMemory"/> each), stuck ones included.</param>
/// <param name="Engine">The engine and version the node runs jobs with (<c>wasmtime 50.0.1</c>), or null when it announced none.</param>
/// <param name="EngineFeatures">The optional WebAssembly features that engine runs (<c>simd</c>), or null for none.</param>
/// <param name="Untried">This scheduler has not placed a run on it yet (a new node, or none since the silo started).</param>
/// <param name="Edge">An edge node (a public peer through the libp2p bridge): it has no storage proxy, so it runs no job that reads or writes stored objects.</param>
internal sealed record NodeCandidate(
    string NodeId,
    string Operator,
    bool Alive,
    int Concurrency,
    int Running,
    decimal PricePerMillionFuel,
    double Reputation,
    double? LatencyMs,
    long MemoryBytes = long.MaxValue,
    long ReservedMemoryBytes = 0,
    string? Engine = null,
    IReadOnlyList<string>? EngineFeatures = null,
    bool Untried = false,
    bool Edge = false)
{
    public int FreeSlots => Math.Max(0, Concurrency - Running);

    public long FreeMemoryBytes => Math.Max(0, MemoryBytes - ReservedMemoryBytes);
}
