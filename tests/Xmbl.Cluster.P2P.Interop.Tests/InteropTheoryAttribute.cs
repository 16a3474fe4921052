namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>An interop theory: needs the JS peer, like <see cref="InteropFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class InteropTheoryAttribute : TheoryAttribute
{
    public InteropTheoryAttribute()
    {
        if (JsPeer.MissingReason is { } reason && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "Skipped locally: " + reason;
        }
    }
}
