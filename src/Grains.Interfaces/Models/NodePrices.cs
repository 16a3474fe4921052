namespace Xmbl.Cluster.Grains.Interfaces.Models;

/// <summary>What a node charges, in xmbl.c credits.</summary>
/// <param name="PerMillionFuel">Price of one million fuel units of WebAssembly execution.</param>
/// <param name="PerGbMonth">Price of storing one gigabyte for a month.</param>
[GenerateSerializer, Immutable, Alias("xmbl.NodePrices")]
public sealed record NodePrices(decimal PerMillionFuel, decimal PerGbMonth);
