using System.Collections.Concurrent;

namespace Xmbl.Cluster.Wasm;

/// <summary>Process-wide canonical ids of function types; <c>call_indirect</c> compares ids baked into the code.</summary>
internal static class FuncTypeRegistry
{
    private static readonly ConcurrentDictionary<FuncType, int> Ids = new();
    private static int _next;

    public static int GetId(FuncType type) => Ids.GetOrAdd(type, static _ => Interlocked.Increment(ref _next));
}
