using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>
/// A new file written with <c>O_DIRECT</c>: bytes go from an aligned buffer straight to the device instead of through
/// the page cache, then <c>fdatasync</c> makes them durable.
/// </summary>
/// <remarks>
/// <para>Shards are written once, synced at once and read back rarely (a get reads k of k + m shards, often much later),
/// so caching them helps little, while copying them into the page cache and writing it back was the largest cost of a put:
/// 30% of its CPU on a two-core VM. Direct I/O needs the buffer address, file offset and length aligned, so bytes are
/// copied (a plain memory copy, far cheaper than the kernel's) into a pooled buffer of <see cref="ChunkSize"/> bytes
/// aligned to <see cref="Alignment"/>, written a chunk at a time; the last chunk is padded and the file truncated to its
/// length.</para>
/// <para>Where direct I/O is unavailable (Windows, macOS, tmpfs and other file systems that refuse <c>O_DIRECT</c>)
/// <see cref="TryCreate"/> returns null and the caller writes through the page cache.</para>
/// <para>Methods block; call them on a <see cref="DiskThreads"/> thread. One writer is used by one thread at a time.</para>
/// </remarks>
internal sealed partial class DirectFile : IDisposable
{
    /// <summary>Alignment of buffer addresses, offsets and lengths: 4 KiB covers 512-byte and 4 KiB logical blocks.</summary>
    public const int Alignment = 4096;

    /// <summary>Bytes written per system call.</summary>
    public const int ChunkSize = 1024 * 1024;

    // Writes (up to 16 disk threads) and reads (a get holds k shards of each stripe in flight) share the pool.
    private const int MaxPooledBuffers = 32;
    private const int ReadOnly = 0x0, WriteOnly = 0x1, Create = 0x40, Exclusive = 0x80, CloseOnExec = 0x80000;
    private const int InvalidArgument = 22, NoSuchFile = 2;
    private const int Permissions = 0b110_100_100; // rw-r--r--

    private static readonly ConcurrentStack<nint> Buffers = new();
    private static readonly int DirectFlag = GetDirectFlag();

    private readonly SafeFileHandle _handle;
    private nint _buffer;
    private int _buffered;
    private long _offset;

    private DirectFile(SafeFileHandle handle)
    {
        _handle = handle;
        _buffer = RentBuffer();
    }

    /// <summary>Whether this platform has <c>O_DIRECT</c> at all (a given file system may still refuse it).</summary>
    public static bool PlatformSupported => DirectFlag != 0;

    /// <summary>True when the chunk buffer is full and <see cref="WriteChunk"/> must run before more is buffered.</summary>
    public bool ChunkFull => _buffered == ChunkSize;

    /// <summary>The bytes written and buffered so far.</summary>
    public long Length => _offset + _buffered;

    /// <summary>Creates <paramref name="path"/> (which must not exist) for direct writing, or returns null when the file system does not support direct I/O.</summary>
    /// <exception cref="IOException">The file could not be created.</exception>
    public static DirectFile? TryCreate(string path)
    {
        if (DirectFlag == 0)
        {
            return null;
        }

        var fd = Open(path, WriteOnly | Create | Exclusive | CloseOnExec | DirectFlag, Permissions);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == InvalidArgument)
            {
                return null;
            }

            throw new IOException($"open of '{path}' for direct writing failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }

        return new DirectFile(new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>Copies as much of <paramref name="data"/> as fits into the chunk buffer; returns how many bytes it took.</summary>
    public unsafe int Buffer(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_buffer == 0, this);
        var n = Math.Min(data.Length, ChunkSize - _buffered);
        data[..n].CopyTo(new Span<byte>((byte*)_buffer + _buffered, n));
        _buffered += n;
        return n;
    }

    /// <summary>Writes the full chunk buffer to the file.</summary>
    public void WriteChunk()
    {
        if (!ChunkFull)
        {
            throw new InvalidOperationException("Only a full chunk is written before the end of the file.");
        }

        WriteBuffered(ChunkSize);
    }

    /// <summary>Copies all of <paramref name="data"/> to the file, writing chunks as they fill.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[Buffer(data)..];
            if (ChunkFull)
            {
                WriteChunk();
            }
        }
    }

    /// <summary>Writes what is buffered, sets the file's length and flushes data and length to the device.</summary>
    public unsafe void Complete()
    {
        if (_buffered > 0)
        {
            // The device takes whole blocks: pad the tail with zeros, then cut the file back to its real length.
            var padded = (_buffered + Alignment - 1) / Alignment * Alignment;
            new Span<byte>((byte*)_buffer + _buffered, padded - _buffered).Clear();
            var length = Length;
            WriteBuffered(padded);
            if (_offset != length)
            {
                RandomAccess.SetLength(_handle, length);
                _offset = length;
            }
        }

        if (FileDataSync(_handle) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fdatasync failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
    }

    /// <summary>Closes the file and gives the buffer back to the pool.</summary>
    public void Dispose()
    {
        _handle.Dispose();
        if (_buffer != 0)
        {
            ReturnBuffer(_buffer);
            _buffer = 0;
        }
    }

    /// <summary>A <see cref="ChunkSize"/> buffer aligned to <see cref="Alignment"/>, from the pool; give it back with <see cref="ReturnBuffer"/>.</summary>
    public static nint RentBuffer() => Buffers.TryPop(out var b) ? b : AllocateBuffer();

    /// <summary>Gives back a buffer from <see cref="RentBuffer"/>.</summary>
    public static void ReturnBuffer(nint buffer)
    {
        if (Buffers.Count < MaxPooledBuffers)
        {
            Buffers.Push(buffer);
        }
        else
        {
            FreeBuffer(buffer);
        }
    }

    /// <summary>Opens <paramref name="path"/> for direct reading, or returns null when direct I/O is unavailable for it.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file could not be opened.</exception>
    public static SafeFileHandle? TryOpenRead(string path)
    {
        if (DirectFlag == 0)
        {
            return null;
        }

        var fd = Open(path, ReadOnly | CloseOnExec | DirectFlag, 0);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            InvalidArgument => null,
            NoSuchFile => throw new FileNotFoundException($"'{path}' does not exist.", path),
            _ => throw new IOException($"open of '{path}' for direct reading failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})."),
        };
    }

    private unsafe void WriteBuffered(int length)
    {
        RandomAccess.Write(_handle, new ReadOnlySpan<byte>((byte*)_buffer, length), _offset);
        _offset += length;
        _buffered = 0;
    }

    private static unsafe nint AllocateBuffer() => (nint)NativeMemory.AlignedAlloc(ChunkSize, Alignment);

    private static unsafe void FreeBuffer(nint buffer) => NativeMemory.AlignedFree((void*)buffer);

    private static int GetDirectFlag()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        // O_DIRECT's value is architecture-specific.
        return RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 or Architecture.X86 => 0x4000,
            Architecture.Arm64 or Architecture.Arm => 0x10000,
            _ => 0,
        };
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FileDataSync(SafeFileHandle fd);
}
