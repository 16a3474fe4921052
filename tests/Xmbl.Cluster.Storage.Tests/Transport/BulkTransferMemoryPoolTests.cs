using System.Runtime.InteropServices;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Transport;

public sealed class BulkTransferMemoryPoolTests
{
    [Fact]
    [Trait("Suite", "BVT")]
    public void Rent_AnySizeUpToABlock_GivesAWholeArrayBackedBlock()
    {
        using var pool = new BulkTransferMemoryPool();

        using var block = pool.Rent(4096);

        Assert.Equal(BulkTransferMemoryPool.BlockSize, block.Memory.Length);
        // Kestrel's socket sender passes blocks to the kernel as arrays and fails on anything else.
        Assert.True(MemoryMarshal.TryGetArray<byte>(block.Memory, out var segment));
        Assert.Equal(BulkTransferMemoryPool.BlockSize, segment.Count);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Rent_MoreThanABlock_Throws()
    {
        using var pool = new BulkTransferMemoryPool();

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(BulkTransferMemoryPool.BlockSize + 1));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Dispose_Twice_ReturnsTheBlockOnce()
    {
        using var pool = new BulkTransferMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();

        using var first = pool.Rent();
        using var second = pool.Rent();

        Assert.Same(block, first);
        Assert.NotSame(first, second);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Return_BeyondTheRetainedCap_DropsBlocks()
    {
        using var pool = new BulkTransferMemoryPool();
        var blocks = Enumerable.Range(0, BulkTransferMemoryPool.MaxRetainedBlocks + 10).Select(_ => pool.Rent()).ToList();

        blocks.ForEach(b => b.Dispose());

        Assert.Equal(BulkTransferMemoryPool.MaxRetainedBlocks, pool.RetainedBlocks);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public unsafe void Pin_PointsIntoTheBlock()
    {
        using var pool = new BulkTransferMemoryPool();
        using var block = pool.Rent();
        block.Memory.Span[100] = 42;

        using var handle = block.Memory.Pin();

        Assert.Equal(42, ((byte*)handle.Pointer)[100]);
    }
}
