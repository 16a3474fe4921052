namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>What a node offers to the cluster.</summary>
/// <param name="Cores">CPU cores offered for jobs.</param>
/// <param name="MemoryBytes">Memory offered for jobs, in bytes.</param>
/// <param name="StorageBytes">Disk space offered for shards, in bytes.</param>
/// <param name="Gpu">Whether the node offers a GPU.</param>
/// <param name="Concurrency">How many jobs the node runs at once at most.</param>
/// <param name="Engine">The WebAssembly engine that runs its jobs (<c>wasmtime</c> or <c>managed</c>); null when the silo runs no jobs.</param>
/// <param name="EngineVersion">That engine's version; a job's validators run the executor's engine and version.</param>
/// <param name="EngineFeatures">The optional WebAssembly features that engine runs (<c>simd</c>); a job goes only to nodes whose engine runs every feature its module uses.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodeResources")]
public sealed record NodeResources(int Cores, long MemoryBytes, long StorageBytes, bool Gpu, int Concurrency, string? Engine = null, string? EngineVersion = null, IReadOnlyList<string>? EngineFeatures = null);
