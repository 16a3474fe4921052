namespace Xmbl.Cluster.Storage.Tests.Support;

public static class TestData
{
    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

/// <summary>A stream that yields <paramref name="length"/> deterministic bytes without holding them, and can fail after <paramref name="failAfter"/> bytes.</summary>
public sealed class GeneratedStream(long length, long failAfter = long.MaxValue, int seed = 7) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public static byte ByteAt(long position, int seed = 7) => (byte)((position * 2654435761L >> 13) ^ seed ^ (position >> 20));

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= failAfter)
        {
            throw new IOException("The source broke off.");
        }

        var n = (int)Math.Min(buffer.Length, Math.Min(length, failAfter) - _position);
        for (var i = 0; i < n; i++)
        {
            buffer[i] = ByteAt(_position + i, seed);
        }

        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A write-only stream that checks every byte against <see cref="GeneratedStream.ByteAt"/> without storing them.</summary>
public sealed class VerifyingSink(long startPosition = 0, int seed = 7) : Stream
{
    public long Written { get; private set; }
    public long FirstMismatch { get; private set; } = -1;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (FirstMismatch < 0)
        {
            for (var i = 0; i < buffer.Length; i++)
            {
                if (buffer[i] != GeneratedStream.ByteAt(startPosition + Written + i, seed))
                {
                    FirstMismatch = startPosition + Written + i;
                    break;
                }
            }
        }

        Written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
