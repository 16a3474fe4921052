using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>Plaintext in, Noise transport frames out: seals each full frame as soon as it is written, the rest at flush.</summary>
/// <remarks>
/// Plaintext gathers in one pooled buffer, so frames are filled to the 65519-byte maximum whatever the sizes of the
/// writes (one yamux header and its payload share a frame). The buffer goes back to the pool at each flush, so an idle
/// connection holds none. Single writer, as every <see cref="PipeWriter"/>.
/// </remarks>
internal sealed class NoiseWriter(PipeWriter raw, NoiseCipher cipher) : PipeWriter
{
    // Room for a few frames: what is left under a frame is moved to the front when the tail is short, at most
    // 64 KiB moved per 192 KiB written.
    internal const int BufferSize = 256 * 1024;

    private const int FrameOverhead = 2 + NoiseCipher.TagLength;

    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _completed;

    /// <summary>Completes once the writer is completed and its last frame handed to the raw writer (or that failed).</summary>
    public Task Completion => _completion.Task;

    /// <inheritdoc/>
    public override Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_end);

    /// <inheritdoc/>
    public override Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_end);

    /// <inheritdoc/>
    public override void Advance(int bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        if (_buffer is null || (uint)bytes > (uint)(_buffer.Length - _end))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the buffer handed out.");
        }

        _end += bytes;
        while (_end - _start >= NoiseChannel.MaxPlaintext)
        {
            Seal(NoiseChannel.MaxPlaintext);
        }
    }

    /// <inheritdoc/>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }

        SealRest();
        return raw.FlushAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override void CancelPendingFlush() => raw.CancelPendingFlush();

    /// <inheritdoc/>
    /// <remarks>Never waits on the socket: the last frames go out in the background and <see cref="Completion"/>
    /// tells when; a remote that does not read cannot hold up the close (the owner shuts the socket after a grace).</remarks>
    public override void Complete(Exception? exception = null)
    {
        if (Completing(exception, out var sealError))
        {
            _ = CompleteRawAsync(exception ?? sealError, sealError);
        }
    }

    /// <inheritdoc/>
    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        return ValueTask.CompletedTask;
    }

    private async Task CompleteRawAsync(Exception? rawError, Exception? sealError)
    {
        try
        {
            await raw.CompleteAsync(rawError);
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
            return;
        }

        if (sealError is null)
        {
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(sealError);
        }
    }

    private bool Completing(Exception? exception, out Exception? sealError)
    {
        sealError = null;
        if (_completed)
        {
            return false;
        }

        _completed = true;
        try
        {
            if (exception is null)
            {
                SealRest();
            }
        }
        catch (Exception e) when (e is P2PProtocolException or ObjectDisposedException)
        {
            sealError = e;
        }

        ReturnBuffer();
        return true;
    }

    private byte[] Reserve(int sizeHint)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }

        sizeHint = Math.Max(sizeHint, 1);
        var buffer = _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
        if (buffer.Length - _end >= sizeHint)
        {
            return buffer;
        }

        // Less than a frame waits to be sealed: move it to the front, into a larger buffer for an outsized hint.
        var pending = _end - _start;
        if (buffer.Length - pending < sizeHint)
        {
            var larger = ArrayPool<byte>.Shared.Rent(pending + sizeHint);
            buffer.AsSpan(_start, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            _buffer = buffer = larger;
        }
        else
        {
            buffer.AsSpan(_start, pending).CopyTo(buffer);
        }

        _start = 0;
        _end = pending;
        return buffer;
    }

    private void SealRest()
    {
        if (_end > _start)
        {
            Seal(_end - _start);
        }

        ReturnBuffer();
    }

    private void Seal(int length)
    {
        var frame = raw.GetSpan(FrameOverhead + length);
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(length + NoiseCipher.TagLength));
        cipher.Encrypt(ReadOnlySpan<byte>.Empty, _buffer.AsSpan(_start, length), frame[2..]);
        raw.Advance(FrameOverhead + length);
        _start += length;
    }

    private void ReturnBuffer()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _start = 0;
        _end = 0;
    }
}
