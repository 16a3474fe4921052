namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>What one run of a job may use.</summary>
/// <param name="Fuel">Fuel units (roughly one per WebAssembly instruction, host calls included).</param>
/// <param name="MemoryPages">Linear memory cap in 64 KiB pages.</param>
/// <param name="WallTime">Wall-clock cap of one run.</param>
[GenerateSerializer, Immutable, Alias("xmbl.JobLimits")]
public sealed record JobLimits(long Fuel, int MemoryPages, TimeSpan WallTime);
