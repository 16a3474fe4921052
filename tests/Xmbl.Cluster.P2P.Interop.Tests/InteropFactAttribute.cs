namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>
/// An interop test: needs the JS peer. Missing it fails the test under CI (CI=true) with what to install, and skips it
/// elsewhere.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class InteropFactAttribute : FactAttribute
{
    public InteropFactAttribute()
    {
        if (JsPeer.MissingReason is { } reason && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "Skipped locally: " + reason;
        }
    }
}
