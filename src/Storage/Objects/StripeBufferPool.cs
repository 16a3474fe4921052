namespace Xmbl.Cluster.Storage.Objects;

/// <summary>
/// The stripe buffers of object writers, readers and repairers, with the bytes rented at once capped, so memory stays
/// bounded however large the objects and however many streams run.
/// </summary>
/// <remarks>
/// A rent that would pass the cap waits (first come, first served) until buffers come back; a single rent larger than
/// the cap is granted only when nothing else is rented. Counters record the peak, which tests use to check that memory
/// does not grow with object size. Returned arrays are kept for reuse by the next rent of the same size (stripes of one
/// coding all have one size) as long as rented plus kept bytes stay under the cap. The pool keeps its own arrays rather
/// than using <see cref="System.Buffers.ArrayPool{T}.Shared"/>, which would round 5 MiB stripes up to 8 MiB and strand
/// arrays in the thread-local slots of thread-pool threads.
/// </remarks>
public sealed class StripeBufferPool
{
    /// <summary>The default cap on rented bytes: 512 MiB.</summary>
    public const long DefaultMaxRentedBytes = 512L * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Stack<byte[]> _free = new();
    private long _freeBytes;
    private long _rentedBytes;
    private int _rentedCount;

    /// <summary>Creates a pool that lets at most <paramref name="maxRentedBytes"/> be rented at once.</summary>
    public StripeBufferPool(long maxRentedBytes = DefaultMaxRentedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRentedBytes);
        MaxRentedBytes = maxRentedBytes;
    }

    /// <summary>The cap on bytes rented at once.</summary>
    public long MaxRentedBytes { get; }

    /// <summary>The bytes rented now.</summary>
    public long RentedBytes { get { lock (_lock) { return _rentedBytes; } } }

    /// <summary>The buffers rented now.</summary>
    public int RentedCount { get { lock (_lock) { return _rentedCount; } } }

    /// <summary>The most bytes that were ever rented at once.</summary>
    public long PeakRentedBytes { get; private set; }

    /// <summary>The most buffers that were ever rented at once.</summary>
    public int PeakRentedCount { get; private set; }

    /// <summary>How many rents were granted in total.</summary>
    public long TotalRents { get; private set; }

    /// <summary>Rents a buffer of at least <paramref name="size"/> bytes, waiting while the cap is reached.</summary>
    public ValueTask<byte[]> RentAsync(int size, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && Fits(size))
            {
                Grant(size);
                return new(TakeLocked(size));
            }

            waiter = new Waiter(size);
            waiter.Node = _waiters.AddLast(waiter);
        }

        return new(WaitAsync(waiter, cancellationToken));
    }

    /// <summary>Gives back a buffer from <see cref="RentAsync"/>; <paramref name="size"/> must be the size asked for.</summary>
    public void Return(byte[] buffer, int size)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        List<Waiter>? granted = null;
        lock (_lock)
        {
            _rentedBytes -= size;
            _rentedCount--;
            if (buffer.Length == size && _rentedBytes + _freeBytes + size <= MaxRentedBytes)
            {
                _free.Push(buffer);
                _freeBytes += size;
            }

            GrantWaitersLocked(ref granted);
        }

        Complete(granted);
    }

    private void GrantWaitersLocked(ref List<Waiter>? granted)
    {
        while (_waiters.First is { } first && Fits(first.Value.Size))
        {
            _waiters.RemoveFirst();
            first.Value.Node = null;
            Grant(first.Value.Size);
            (granted ??= []).Add(first.Value);
        }
    }

    private static void Complete(List<Waiter>? granted)
    {
        // Outside the lock; continuations run asynchronously.
        foreach (var w in granted ?? [])
        {
            w.Completion.TrySetResult();
        }
    }

    private async Task<byte[]> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        await using (cancellationToken.Register(() => Cancel(waiter, cancellationToken)))
        {
            await waiter.Completion.Task;
        }

        lock (_lock)
        {
            return TakeLocked(waiter.Size);
        }
    }

    /// <summary>Bytes kept for reuse now.</summary>
    public long RetainedBytes { get { lock (_lock) { return _freeBytes; } } }

    private byte[] TakeLocked(int size)
    {
        // Reuse a kept array of this size; drop kept arrays of other sizes so kept + rented stays under the cap.
        while (_free.Count > 0)
        {
            var candidate = _free.Pop();
            _freeBytes -= candidate.Length;
            if (candidate.Length == size)
            {
                return candidate;
            }
        }

        return GC.AllocateUninitializedArray<byte>(size);
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        List<Waiter>? granted = null;
        lock (_lock)
        {
            if (waiter.Node is null)
            {
                return; // Already granted: the rent stands and the caller returns the buffer.
            }

            _waiters.Remove(waiter.Node);
            waiter.Node = null;
            // The waiters behind it may fit now.
            GrantWaitersLocked(ref granted);
        }

        waiter.Completion.TrySetCanceled(cancellationToken);
        Complete(granted);
    }

    private bool Fits(int size) => _rentedCount == 0 || _rentedBytes + size <= MaxRentedBytes;

    private void Grant(int size)
    {
        _rentedBytes += size;
        _rentedCount++;
        TotalRents++;
        PeakRentedBytes = Math.Max(PeakRentedBytes, _rentedBytes);
        PeakRentedCount = Math.Max(PeakRentedCount, _rentedCount);
    }

    private sealed class Waiter(int size)
    {
        public int Size { get; } = size;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
