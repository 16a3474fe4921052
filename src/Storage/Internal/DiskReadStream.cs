using Microsoft.Win32.SafeHandles;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>A read-only stream over a file whose asynchronous reads block a <see cref="DiskThreads"/> thread instead of a thread-pool one.</summary>
/// <remarks>
/// On Linux an asynchronous file read is a blocking <c>pread</c> on the thread pool. A get reads a dozen shards at once
/// from disk; on a two-core machine they held the pool's few workers, so the stream's sending and hashing waited
/// behind them.
/// </remarks>
internal sealed class DiskReadStream(SafeFileHandle handle) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => RandomAccess.GetLength(handle);

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = RandomAccess.Read(handle, buffer, _position);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var offset = _position;
        var n = await DiskThreads.Run(() => RandomAccess.Read(handle, buffer.Span, offset));
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            handle.Dispose();
        }

        base.Dispose(disposing);
    }
}
