using Xmbl.Cluster.Runtime.Core;

namespace Xmbl.Cluster.Runtime.Tests;

/// <summary>The in-process per-grain lock: exclusion, cancellation, cleanup and cycle detection.</summary>
[Trait("Suite", "BVT")]
public sealed class KeyedAsyncLockTests
{
    private static readonly GrainId A = new("IG", "a");
    private static readonly GrainId B = new("IG", "b");

    [Fact]
    public async Task Acquire_SameKey_SecondWaitsUntilFirstReleases()
    {
        var locks = new KeyedAsyncLock();
        var first = await locks.AcquireAsync(new GrainCallNode(null, A), default);
        var second = locks.AcquireAsync(new GrainCallNode(null, A), default).AsTask();
        Assert.False(second.IsCompleted);

        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        Assert.Equal(0, locks.Count);
    }

    [Fact]
    public async Task Acquire_DifferentKeys_DoNotBlockEachOther()
    {
        var locks = new KeyedAsyncLock();
        using var a = await locks.AcquireAsync(new GrainCallNode(null, A), default);
        var b = locks.AcquireAsync(new GrainCallNode(null, B), default);
        Assert.True(b.IsCompletedSuccessfully);
        (await b).Dispose();
    }

    [Fact]
    public async Task Acquire_CancelledWhileWaiting_ThrowsAndLeavesNoEntryBehind()
    {
        var locks = new KeyedAsyncLock();
        var held = await locks.AcquireAsync(new GrainCallNode(null, A), default);
        using var cts = new CancellationTokenSource();
        var waiting = locks.AcquireAsync(new GrainCallNode(null, A), cts.Token).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        Assert.Equal(0, locks.Count);
    }

    [Fact]
    public async Task Acquire_ClosingACycleBetweenTwoCallChains_ThrowsInsteadOfWaiting()
    {
        var locks = new KeyedAsyncLock();
        var callA = new GrainCallNode(null, A);
        var callB = new GrainCallNode(null, B);
        using var holdA = await locks.AcquireAsync(callA, default);
        using var holdB = await locks.AcquireAsync(callB, default);

        // A's call now calls B: it waits (B is busy but not waiting for anything).
        var aWantsB = locks.AcquireAsync(new GrainCallNode(callA, B), default).AsTask();
        Assert.False(aWantsB.IsCompleted);

        // B's call now calls A: A is held by a chain waiting for B, so this would never finish.
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await locks.AcquireAsync(new GrainCallNode(callB, A), default));
        Assert.Contains("would deadlock", ex.Message, StringComparison.Ordinal);
        Assert.False(aWantsB.IsCompleted);
    }
}
