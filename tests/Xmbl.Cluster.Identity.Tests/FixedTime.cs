namespace Xmbl.Cluster.Identity.Tests;

/// <summary>A clock that stands still until moved.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
