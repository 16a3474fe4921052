using System.Runtime.InteropServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Zero-filled native allocations for linear memories. On Linux they are private anonymous mappings: the kernel
/// hands out zero pages lazily, so allocating 1 MiB costs one system call instead of clearing (or faulting in) every
/// page, and growing uses <c>mremap</c>, whose new pages are zero as well. Elsewhere <see cref="NativeMemory"/>.
/// </summary>
/// <remarks>
/// <c>calloc</c> alone is not enough: after the first free of a large block glibc raises its mmap threshold, later
/// blocks come from the heap and are cleared with memset (and faulted in), about 0.5 ms per MiB here.
/// </remarks>
internal static unsafe partial class LinearMemoryPages
{
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MremapMayMove = 1;
    private const nuint MinimumMapping = 4096;

    private static readonly bool UseMmap = OperatingSystem.IsLinux();

    private static long _allocatedBytes;

    /// <summary>Bytes currently allocated (requested lengths of live allocations).</summary>
    public static long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    /// <summary>Allocates <paramref name="length"/> zeroed bytes (at least a few, so the address is never null).</summary>
    /// <exception cref="OutOfMemoryException">The system refused the allocation.</exception>
    public static void* Allocate(nuint length)
    {
        if (!UseMmap)
        {
            var block = NativeMemory.AllocZeroed(Math.Max(length, 8));
            Interlocked.Add(ref _allocatedBytes, (long)length);
            return block;
        }

        var address = Mmap(0, MappingLength(length), ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (address == -1)
        {
            throw new OutOfMemoryException($"mmap of {length} bytes failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        Interlocked.Add(ref _allocatedBytes, (long)length);
        return (void*)address;
    }

    /// <summary>Resizes an allocation of <paramref name="oldLength"/> bytes to <paramref name="newLength"/>; the added bytes are zero.</summary>
    /// <returns>The (possibly moved) address, or null when the system refused (the old block is then unchanged).</returns>
    public static void* Grow(void* address, nuint oldLength, nuint newLength)
    {
        if (!UseMmap)
        {
            void* moved;
            try
            {
                moved = NativeMemory.Realloc(address, newLength);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }

            NativeMemory.Clear((byte*)moved + oldLength, newLength - oldLength);
            Interlocked.Add(ref _allocatedBytes, (long)(newLength - oldLength));
            return moved;
        }

        var remapped = Mremap((nint)address, MappingLength(oldLength), MappingLength(newLength), MremapMayMove);
        if (remapped == -1)
        {
            return null;
        }

        Interlocked.Add(ref _allocatedBytes, (long)(newLength - oldLength));
        return (void*)remapped;
    }

    /// <summary>Releases an allocation of <paramref name="length"/> bytes.</summary>
    public static void Free(void* address, nuint length)
    {
        if (UseMmap)
        {
            _ = Munmap((nint)address, MappingLength(length));
        }
        else
        {
            NativeMemory.Free(address);
        }

        Interlocked.Add(ref _allocatedBytes, -(long)length);
    }

    // A zero-page memory still gets a real mapping, so the base address is valid and distinct.
    private static nuint MappingLength(nuint length) => Math.Max(length, MinimumMapping);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mremap", SetLastError = true)]
    private static partial nint Mremap(nint oldAddress, nuint oldLength, nuint newLength, int flags);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
