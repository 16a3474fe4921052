using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>Noise transport frames in, plaintext out: frames are opened when the consumer has examined all it was given.</summary>
/// <remarks>
/// Every complete frame of one raw read is opened at once, straight into a pooled plaintext pipe; the socket is read
/// again only when the consumer asks for bytes it does not have, so a consumer that stops reading stops the socket.
/// What can wait here is bounded by one raw read. Single reader, as every <see cref="PipeReader"/>.
/// </remarks>
internal sealed class NoiseReader(PipeReader raw, NoiseCipher cipher) : PipeReader
{
    private readonly Pipe _plain = new(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
    private ReadOnlySequence<byte> _given;
    private bool _reading;
    private bool _unexamined;
    private bool _completed;
    private bool _rawDone;

    /// <inheritdoc/>
    public override bool TryRead(out ReadResult result)
    {
        ThrowIfCompleted();
        if (!_unexamined && !_rawDone && raw.TryRead(out var rawResult))
        {
            Open(rawResult);
        }

        if (_unexamined && _plain.Reader.TryRead(out result))
        {
            Give(result);
            return true;
        }

        result = default;
        return false;
    }

    /// <inheritdoc/>
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (_unexamined && _plain.Reader.TryRead(out var ready))
        {
            Give(ready);
            return new ValueTask<ReadResult>(ready);
        }

        return ReadMoreAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_reading)
        {
            // A cancelled read with nothing decrypted gave an empty buffer that is not the pipe's.
            return;
        }

        _reading = false;
        // The plaintext pipe holds exactly what was given, so everything examined means more must come from the socket.
        _unexamined = !_given.Slice(examined).IsEmpty;
        _given = default;
        _plain.Reader.AdvanceTo(consumed, examined);
    }

    /// <inheritdoc/>
    public override void CancelPendingRead() => raw.CancelPendingRead();

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _plain.Reader.Complete();
        _plain.Writer.Complete();
        raw.Complete(exception);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> ReadMoreAsync(CancellationToken cancellationToken)
    {
        while (!_rawDone)
        {
            var rawResult = await raw.ReadAsync(cancellationToken);
            var opened = Open(rawResult);
            if (opened || rawResult.IsCanceled || rawResult.IsCompleted)
            {
                if (_plain.Reader.TryRead(out var result))
                {
                    Give(result);
                    return rawResult.IsCanceled ? new ReadResult(result.Buffer, isCanceled: true, result.IsCompleted) : result;
                }

                return new ReadResult(default, rawResult.IsCanceled, rawResult.IsCompleted);
            }
        }

        // The socket ended and everything before it was handed out.
        if (_plain.Reader.TryRead(out var last))
        {
            Give(last);
            return last;
        }

        return new ReadResult(default, isCanceled: false, isCompleted: true);
    }

    /// <summary>Opens every complete frame of <paramref name="rawResult"/>; true when any plaintext was added.</summary>
    private bool Open(ReadResult rawResult)
    {
        var buffer = rawResult.Buffer;
        var before = _plain.Writer.UnflushedBytes;
        var frames = 0;
        try
        {
            while (TryOpenFrame(ref buffer))
            {
                frames++;
            }

            if (rawResult.IsCompleted && !buffer.IsEmpty)
            {
                throw new P2PProtocolException("Noise: the connection ended inside a frame.");
            }
        }
        finally
        {
            raw.AdvanceTo(buffer.Start, buffer.End);
        }

        var added = _plain.Writer.UnflushedBytes > before;
        if (frames > 0)
        {
            // pauseWriterThreshold is 0: this completes at once.
            _ = _plain.Writer.FlushAsync().GetAwaiter().GetResult();
        }

        if (rawResult.IsCompleted)
        {
            _rawDone = true;
            _plain.Writer.Complete();
            added = true;
        }

        _unexamined |= added;
        return added;
    }

    private bool TryOpenFrame(ref ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 2)
        {
            return false;
        }

        int length;
        if (buffer.FirstSpan.Length >= 2)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(buffer.FirstSpan);
        }
        else
        {
            Span<byte> prefix = [0, 0];
            buffer.Slice(0, 2).CopyTo(prefix);
            length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        }

        if (buffer.Length < 2 + length)
        {
            return false;
        }

        if (length < NoiseCipher.TagLength)
        {
            throw new P2PProtocolException($"Noise: a transport frame of {length} bytes is shorter than its tag.");
        }

        var frame = buffer.Slice(2, length);
        var plainLength = length - NoiseCipher.TagLength;
        var destination = _plain.Writer.GetSpan(Math.Max(plainLength, 1));
        bool authentic;
        if (frame.IsSingleSegment)
        {
            authentic = cipher.TryDecrypt(ReadOnlySpan<byte>.Empty, frame.FirstSpan, destination);
        }
        else
        {
            // A frame across two raw segments: one copy to make it contiguous.
            var scratch = ArrayPool<byte>.Shared.Rent(length);
            frame.CopyTo(scratch);
            authentic = cipher.TryDecrypt(ReadOnlySpan<byte>.Empty, scratch.AsSpan(0, length), destination);
            ArrayPool<byte>.Shared.Return(scratch);
        }

        if (!authentic)
        {
            throw new P2PProtocolException("Noise: a transport frame failed authentication.");
        }

        _plain.Writer.Advance(plainLength);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    private void Give(ReadResult result)
    {
        _reading = true;
        _given = result.Buffer;
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("Reading is not allowed after the reader was completed.");
        }
    }
}
