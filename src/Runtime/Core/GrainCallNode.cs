namespace Xmbl.Cluster.Runtime.Core;

/// <summary>
/// One grain call in progress on the current async flow; nested calls form a chain through <see cref="Parent"/>.
/// Used to detect a grain calling itself (which would wait for its own lock) and lock cycles between grains.
/// </summary>
internal sealed class GrainCallNode(GrainCallNode? parent, GrainId id)
{
    private static readonly AsyncLocal<GrainCallNode?> CurrentNode = new();

    public static GrainCallNode? Current
    {
        get => CurrentNode.Value;
        set => CurrentNode.Value = value;
    }

    public GrainCallNode? Parent { get; } = parent;

    public GrainId Id { get; } = id;

    /// <summary>Set when the call has finished; work the grain left running afterwards no longer counts as inside it.</summary>
    public volatile bool Completed;

    /// <summary>The lock some call below this one (or this flow itself) is waiting for; guarded by the lock table.</summary>
    public KeyedAsyncLock.Entry? WaitingFor;

    /// <summary>Whether <paramref name="id"/> is held by this call or one it is nested in.</summary>
    public static bool IsInCallChain(GrainCallNode? node, GrainId id)
    {
        for (var n = node; n is not null; n = n.Parent)
        {
            if (!n.Completed && n.Id == id)
            {
                return true;
            }
        }

        return false;
    }

    public static string Describe(GrainCallNode? node, GrainId next)
    {
        var chain = new List<string> { next.ToString() };
        for (var n = node; n is not null; n = n.Parent)
        {
            chain.Add(n.Id.ToString());
        }

        chain.Reverse();
        return string.Join(" -> ", chain);
    }
}
