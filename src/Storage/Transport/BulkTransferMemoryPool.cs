using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Xmbl.Cluster.Storage.Transport;

/// <summary>
/// The memory pool of the silo's HTTP connections: pinned 64 KiB blocks instead of Kestrel's 4 KiB ones, so a socket
/// read or write moves up to 64 KiB per system call.
/// </summary>
/// <remarks>
/// <para>Object bodies and shards are large. With 4 KiB blocks Kestrel called <c>recv</c> 524,000 times for a 1 GiB put
/// (a zero-byte wait and a 4 KiB read per block), 12% of the put's CPU on a two-core VM where every system call is
/// costly. Idle connections hold no block, since Kestrel waits for data before it rents one.</para>
/// <para>Blocks live on the pinned object heap, so pinning them is free. Up to <see cref="MaxRetainedBlocks"/> returned
/// blocks are kept for reuse; more go back to the garbage collector.</para>
/// </remarks>
public sealed class BulkTransferMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block: 64 KiB.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>How many returned blocks are kept for reuse (16 MiB).</summary>
    public const int MaxRetainedBlocks = 256;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks kept for reuse now.</summary>
    public int RetainedBlocks => Volatile.Read(ref _freeCount);

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
        }
        else
        {
            block = new Block(this);
        }

        block.Rented = 1;
        return block;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => _free.Clear();

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    private sealed unsafe class Block(BulkTransferMemoryPool pool) : MemoryManager<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public int Rented;

        public override Span<byte> GetSpan() => _array;

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, BlockSize);
            // On the pinned object heap the array never moves: no handle is needed.
            return new MemoryHandle((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array)) + elementIndex);
        }

        public override void Unpin()
        {
        }

        // The socket sender hands arrays to the kernel as a buffer list and insists on array-backed memory.
        protected override bool TryGetArray(out ArraySegment<byte> segment)
        {
            segment = new ArraySegment<byte>(_array);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            // Kestrel disposes each block once; the flag keeps a second dispose from handing it out twice.
            if (Interlocked.Exchange(ref Rented, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}

/// <summary>Hands Kestrel's socket transport a <see cref="BulkTransferMemoryPool"/>.</summary>
public sealed class BulkTransferMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <inheritdoc/>
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new BulkTransferMemoryPool();
}
