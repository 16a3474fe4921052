using Microsoft.Win32.SafeHandles;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>A read-only stream over a file whose asynchronous reads block a <see cref="DiskThreads"/> thread instead of a thread-pool one.</summary>
/// <remarks>
/// <para>On Linux an asynchronous file read is a blocking <c>pread</c> on the thread pool. A get reads a dozen shards at
/// once from disk; on a two-core machine they held the pool's few workers, so the stream's sending and hashing waited
/// behind them.</para>
/// <para>Over a handle opened with <c>O_DIRECT</c> (<paramref name="direct"/>) it reads whole aligned chunks into a
/// pooled bounce buffer and copies from there: the kernel's copy out of the page cache was a third of a get's CPU, and
/// shards written directly are not in the cache anyway.</para>
/// </remarks>
internal sealed class DiskReadStream(SafeFileHandle handle, bool direct = false) : ReadOnlyStream
{
    private long _position;
    private long _fileOffset;
    private nint _bounce;
    private int _bounceStart;
    private int _bounceEnd;
    private bool _endOfFile;

    public override long Length => RandomAccess.GetLength(handle);

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (direct)
        {
            if (_bounceStart == _bounceEnd && !_endOfFile)
            {
                Filled(ReadChunk());
            }

            return CopyOut(buffer);
        }

        var n = RandomAccess.Read(handle, buffer, _position);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (direct)
        {
            if (_bounceStart == _bounceEnd && !_endOfFile)
            {
                Filled(await DiskThreads.Run(ReadChunk));
            }

            return CopyOut(buffer.Span);
        }

        var offset = _position;
        var n = await DiskThreads.Run(() => RandomAccess.Read(handle, buffer.Span, offset));
        _position += n;
        return n;
    }

    /// <summary>Reads the next aligned chunk into the bounce buffer (blocking); returns the bytes read.</summary>
    private unsafe int ReadChunk()
    {
        if (_bounce == 0)
        {
            _bounce = DirectFile.RentBuffer();
        }

        return RandomAccess.Read(handle, new Span<byte>((void*)_bounce, DirectFile.ChunkSize), _fileOffset);
    }

    private void Filled(int n)
    {
        _fileOffset += n;
        _bounceStart = 0;
        _bounceEnd = n;
        // A direct read comes back short only at the end of the file: no need to ask again for the 0 that follows.
        _endOfFile = n == 0 || n % DirectFile.Alignment != 0;
    }

    private unsafe int CopyOut(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _bounceEnd - _bounceStart);
        new ReadOnlySpan<byte>((byte*)_bounce + _bounceStart, n).CopyTo(destination);
        _bounceStart += n;
        _position += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            handle.Dispose();
            if (_bounce != 0)
            {
                DirectFile.ReturnBuffer(_bounce);
                _bounce = 0;
            }
        }

        base.Dispose(disposing);
    }
}
