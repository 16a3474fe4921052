using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>The Noise transport phase: a duplex pipe of plaintext over a duplex pipe of length-prefixed ciphertext.</summary>
/// <remarks>
/// Two pumps: one decrypts frames from the raw input straight into the plaintext input pipe, the other cuts the
/// plaintext output into frames of at most 65519 bytes (65535 with the tag) and encrypts them into the raw output.
/// Buffers come from the pipes' pool; nothing is allocated per frame.
/// </remarks>
internal sealed class NoiseChannel : IDuplexPipe, IAsyncDisposable
{
    public const int MaxPlaintext = NoiseHandshake.MaxMessageLength - NoiseCipher.TagLength;

    private readonly IDuplexPipe _raw;
    private readonly NoiseSession _session;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _readPump;
    private readonly Task _writePump;

    public NoiseChannel(IDuplexPipe raw, NoiseSession session)
    {
        _raw = raw;
        _session = session;
        // The reader (yamux) never lets this fill far: its peers are bound by stream windows. The pause keeps a slow
        // consumer from buffering without bound all the same.
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: 4 << 20, resumeWriterThreshold: 2 << 20, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 512 << 10, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
        _readPump = Task.Run(ReadPumpAsync);
        _writePump = Task.Run(WritePumpAsync);
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    /// <summary>Completes when the writer has sent everything queued and stopped.</summary>
    public Task WriteCompletion => _writePump;

    /// <summary>Completes when both pumps have stopped.</summary>
    public Task Completion => Task.WhenAll(_readPump, _writePump);

    public async ValueTask DisposeAsync()
    {
        await _output.Writer.CompleteAsync();
        await _input.Reader.CompleteAsync();
        try
        {
            await Completion.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or IOException or P2PProtocolException or OperationCanceledException)
        {
            // The connection is going away; the reason was reported where it happened.
        }

        _session.Sender.Dispose();
        _session.Receiver.Dispose();
    }

    private async Task ReadPumpAsync()
    {
        var scratch = ArrayPool<byte>.Shared.Rent(NoiseHandshake.MaxMessageLength);
        Exception? error = null;
        try
        {
            var reader = _raw.Input;
            var writer = _input.Writer;
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                var frames = 0;
                while (TryDecryptFrame(ref buffer, writer, scratch))
                {
                    frames++;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (frames > 0)
                {
                    var flush = await writer.FlushAsync();
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new P2PProtocolException("Noise: the connection ended inside a frame.");
                    }

                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            await _input.Writer.CompleteAsync(error);
            await _raw.Input.CompleteAsync();
        }
    }

    private bool TryDecryptFrame(ref ReadOnlySequence<byte> buffer, PipeWriter writer, byte[] scratch)
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
        ReadOnlySpan<byte> ciphertext;
        if (frame.IsSingleSegment)
        {
            ciphertext = frame.FirstSpan;
        }
        else
        {
            frame.CopyTo(scratch);
            ciphertext = scratch.AsSpan(0, length);
        }

        var plainLength = length - NoiseCipher.TagLength;
        var destination = writer.GetSpan(Math.Max(plainLength, 1));
        if (!_session.Receiver.TryDecrypt(ReadOnlySpan<byte>.Empty, ciphertext, destination))
        {
            throw new P2PProtocolException("Noise: a transport frame failed authentication.");
        }

        writer.Advance(plainLength);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    private async Task WritePumpAsync()
    {
        Exception? error = null;
        try
        {
            var reader = _output.Reader;
            var writer = _raw.Output;
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    EncryptSegment(segment.Span, writer);
                }

                reader.AdvanceTo(buffer.End);
                if (!buffer.IsEmpty)
                {
                    var flush = await writer.FlushAsync();
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await _output.Reader.CompleteAsync(error);
            await _raw.Output.CompleteAsync(error);
        }
    }

    private void EncryptSegment(ReadOnlySpan<byte> plaintext, PipeWriter writer)
    {
        // Frames follow the pipe's segments: each segment is contiguous, so it is encrypted where it lies.
        while (!plaintext.IsEmpty)
        {
            var n = Math.Min(plaintext.Length, MaxPlaintext);
            var destination = writer.GetSpan(2 + n + NoiseCipher.TagLength);
            BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(n + NoiseCipher.TagLength));
            _session.Sender.Encrypt(ReadOnlySpan<byte>.Empty, plaintext[..n], destination[2..]);
            writer.Advance(2 + n + NoiseCipher.TagLength);
            plaintext = plaintext[n..];
        }
    }
}
