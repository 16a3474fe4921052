using Xmbl.Cluster.Storage.Objects;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class StripeBufferPoolTests
{
    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Rent_UnderCap_GrantsAtOnceAndTracksPeak()
    {
        var pool = new StripeBufferPool(1000);
        var a = await pool.RentAsync(400);
        var b = await pool.RentAsync(400);

        Assert.True(a.Length >= 400);
        Assert.Equal(800, pool.RentedBytes);
        pool.Return(a, 400);
        pool.Return(b, 400);
        Assert.Equal(0, pool.RentedBytes);
        Assert.Equal(800, pool.PeakRentedBytes);
        Assert.Equal(2, pool.PeakRentedCount);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Rent_OverCap_WaitsUntilReturn()
    {
        var pool = new StripeBufferPool(1000);
        var a = await pool.RentAsync(600);

        var pending = pool.RentAsync(600).AsTask();
        Assert.False(pending.IsCompleted);

        pool.Return(a, 600);
        var b = await pending;
        Assert.Equal(600, pool.RentedBytes);
        Assert.Equal(600, pool.PeakRentedBytes);
        pool.Return(b, 600);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Rent_LargerThanCapWhenEmpty_IsGranted()
    {
        var pool = new StripeBufferPool(100);
        var a = await pool.RentAsync(500);
        Assert.Equal(500, pool.RentedBytes);
        pool.Return(a, 500);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Rent_CancelledWhileWaiting_ThrowsAndLetsOthersThrough()
    {
        var pool = new StripeBufferPool(1000);
        var a = await pool.RentAsync(900);
        using var cts = new CancellationTokenSource();
        var big = pool.RentAsync(900, cts.Token).AsTask();
        var small = pool.RentAsync(50).AsTask();
        Assert.False(small.IsCompleted);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => big);
        var s = await small;
        Assert.Equal(950, pool.RentedBytes);
        pool.Return(s, 50);
        pool.Return(a, 900);
        Assert.Equal(0, pool.RentedCount);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Return_ThenRentSameSize_ReusesArrayWithinCap()
    {
        var pool = new StripeBufferPool(1000);
        var a = await pool.RentAsync(400);
        pool.Return(a, 400);
        Assert.Equal(400, pool.RetainedBytes);

        var b = await pool.RentAsync(400);
        Assert.Same(a, b);
        Assert.Equal(400, b.Length);
        var c = await pool.RentAsync(500);
        pool.Return(b, 400);
        pool.Return(c, 500);
        Assert.InRange(pool.RetainedBytes + pool.RentedBytes, 0, 1000);
    }
}
