namespace Xmbl.Cluster.Storage.Internal;

/// <summary>A read-only, seekable stream over a <see cref="ReadOnlyMemory{T}"/> (a shard slice of a pooled stripe buffer), without copying it.</summary>
/// <param name="memory">The bytes.</param>
/// <param name="computedSha256">
/// The lowercase hex SHA-256 the caller computed from exactly these bytes in this process, or null. A store may take it
/// instead of hashing them again; leave it null when the hash was not computed from these bytes (a repaired shard,
/// whose hash comes from the manifest, must be hashed to prove the decoding right).
/// </param>
internal sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory, string? computedSha256 = null) : ReadOnlyStream
{
    private int _position;

    /// <summary>The SHA-256 computed from these bytes in this process, when the creator supplied it.</summary>
    public string? ComputedSha256 => computedSha256;

    public override bool CanSeek => true;
    public override long Length => memory.Length;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, memory.Length);
    }

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, memory.Length - _position);
        memory.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new(Read(buffer.Span));

    /// <summary>The unread bytes, consumed: lets a consumer that knows this type write them without a copy buffer.</summary>
    public ReadOnlyMemory<byte> TakeRemaining()
    {
        var rest = memory[_position..];
        _position = memory.Length;
        return rest;
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        var rest = memory[_position..];
        _position = memory.Length;
        await destination.WriteAsync(rest, cancellationToken);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => memory.Length + offset,
        };
        return _position;
    }
}
