namespace Xmbl.Cluster.Wasm;

/// <summary>A linear memory: a zero-initialized byte array in 64 KiB pages, allocated outside the GC heap.</summary>
/// <remarks>
/// Compiled code reads <see cref="BaseAddress"/> and <see cref="ByteLength"/> directly and checks every access with one
/// unsigned compare. Growing may move the memory, so spans obtained from <see cref="Span"/> are invalid after a grow.
/// <see cref="Dispose"/> releases the pages at once (a <see cref="Store"/> disposes the memories its instances
/// created); the finalizer is only a backstop. A disposed memory has no pages: every access traps out of bounds.
/// </remarks>
public sealed unsafe class Memory : IDisposable
{
    /// <summary>Bytes per page.</summary>
    public const int PageSize = 65_536;

    /// <summary>The most pages a 32-bit memory can have (4 GiB).</summary>
    public const int MaxPages = 65_536;

    // Read by generated code: keep these fields (names are part of the translator's contract).
    internal nint BaseAddress;
    internal ulong ByteLength;
    internal int PageCount;
    internal int GrowLimit = MaxPages;

    /// <summary>Creates a memory.</summary>
    /// <param name="minPages">Initial size in pages.</param>
    /// <param name="maxPages">Maximum size in pages, or null for no declared maximum.</param>
    public Memory(int minPages, int? maxPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minPages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minPages, MaxPages);
        if (maxPages is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, minPages, nameof(maxPages));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(max, MaxPages, nameof(maxPages));
        }

        Maximum = maxPages;
        PageCount = minPages;
        ByteLength = (ulong)minPages * PageSize;
        BaseAddress = (nint)LinearMemoryPages.Allocate((nuint)ByteLength);
    }

    /// <summary>Frees the native allocation if <see cref="Dispose"/> was not called.</summary>
    ~Memory()
    {
        Release();
    }

    /// <summary>Bytes of linear memory currently allocated by this process (all memories not yet released).</summary>
    public static long AllocatedBytes => LinearMemoryPages.AllocatedBytes;

    /// <summary>Current size in pages.</summary>
    public int Pages => PageCount;

    /// <summary>Declared maximum in pages, if any.</summary>
    public int? Maximum { get; }

    /// <summary>Current size in bytes.</summary>
    public long Length => (long)ByteLength;

    /// <summary>The current contents. Memories larger than 2 GiB cannot be viewed as one span; use <see cref="GetSpan"/>.</summary>
    public Span<byte> Span
    {
        get
        {
            if (ByteLength > int.MaxValue)
            {
                throw new InvalidOperationException("The memory is larger than 2 GiB; use GetSpan(offset, length).");
            }

            return new Span<byte>((void*)BaseAddress, (int)ByteLength);
        }
    }

    /// <summary>A bounds-checked window of the memory.</summary>
    /// <param name="offset">Start address.</param>
    /// <param name="length">Number of bytes.</param>
    /// <returns>The window.</returns>
    /// <exception cref="WasmTrapException">The range is outside the memory (<see cref="TrapKind.MemoryOutOfBounds"/>).</exception>
    public Span<byte> GetSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || (ulong)offset + (ulong)length > ByteLength)
        {
            throw new WasmTrapException(TrapKind.MemoryOutOfBounds);
        }

        return new Span<byte>((byte*)BaseAddress + offset, length);
    }

    /// <summary>
    /// Releases the pages now. The memory then has zero pages and cannot grow; do not dispose a memory while guest
    /// code that uses it is running.
    /// </summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        var address = Interlocked.Exchange(ref BaseAddress, 0);
        if (address != 0)
        {
            LinearMemoryPages.Free((void*)address, (nuint)ByteLength);
            ByteLength = 0;
            PageCount = 0;
            GrowLimit = 0;
        }
    }

    /// <summary>Grows the memory by <paramref name="deltaPages"/> zeroed pages.</summary>
    /// <param name="deltaPages">Pages to add.</param>
    /// <returns>The previous size in pages, or -1 when the declared maximum, the store's limit or 4 GiB would be exceeded.</returns>
    public int Grow(int deltaPages) => deltaPages < 0 ? -1 : GrowCore((uint)deltaPages);

    internal int GrowCore(uint deltaPages)
    {
        var old = PageCount;
        if (deltaPages == 0)
        {
            return old;
        }

        var limit = Math.Min(Maximum ?? MaxPages, GrowLimit);
        if (BaseAddress == 0 || deltaPages > (uint)(limit - old))
        {
            return -1;
        }

        var newPages = old + (int)deltaPages;
        var newLength = (ulong)newPages * PageSize;
        var moved = LinearMemoryPages.Grow((void*)BaseAddress, (nuint)ByteLength, (nuint)newLength);
        if (moved == null)
        {
            return -1;
        }

        BaseAddress = (nint)moved;
        ByteLength = newLength;
        PageCount = newPages;
        return old;
    }
}
