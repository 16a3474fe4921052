namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Runs host code that drives wasm (instantiating, running a WASI command, invoking exports) on one of the engine's
/// large-stack guest threads. Every wasm call made from inside then runs directly, and the caller's thread is not
/// blocked while the guest works: a server running many jobs at once keeps its thread pool free.
/// </summary>
public static class GuestThreads
{
    /// <summary>Runs <paramref name="work"/> on a guest thread; the task completes with its result or exception.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The host code; it runs synchronously on the guest thread.</param>
    /// <returns>The task of the result.</returns>
    public static Task<T> RunAsync<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!GuestThread.IsCurrent)
        {
            return GuestThread.RunAsync(work);
        }

        try
        {
            return Task.FromResult(work());
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }
}
