namespace Xmbl.Cluster;

/// <summary>Describes one tick of a reminder.</summary>
/// <param name="FirstTickTime">When the reminder first became due.</param>
/// <param name="Period">The interval between ticks.</param>
/// <param name="CurrentTickTime">The scheduled time of the tick being delivered (not the delivery time).</param>
public readonly record struct TickStatus(DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset CurrentTickTime);
