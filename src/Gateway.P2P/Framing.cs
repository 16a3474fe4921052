using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Yamux;
using Xmbl.Cluster.Storage.Streams;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>
/// Varint-length-prefixed protobuf messages and raw body frames on a yamux stream. Messages are parsed straight from
/// the stream's buffer; a message over its limit, a bad prefix or bytes that are no valid message throw
/// <see cref="BridgeProtocolException"/>.
/// </summary>
internal static class Framing
{
    /// <summary>
    /// Messages longer than this are copied out of the stream as they arrive instead of waiting whole in its buffer: the
    /// stream gives its yamux window back only for consumed bytes, so a message longer than the window would never
    /// arrive whole. Smaller ones always fit (the window is at least 256 KiB).
    /// </summary>
    public const int LargeMessageBytes = 64 * 1024;

    /// <summary>Reads one message; null when the stream ended cleanly before one started.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxLength, string protocol, CancellationToken ct)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            var header = new SequenceReader<byte>(buffer);
            switch (LengthPrefix.TryReadPrefix(ref header, maxLength, out var length))
            {
                case LengthPrefixStatus.BadPrefix:
                    throw new BridgeProtocolException($"{protocol}: a bad length prefix.");
                case LengthPrefixStatus.TooLong:
                    throw new BridgeProtocolException($"{protocol}: a {length}-byte message (at most {maxLength}).");
                case LengthPrefixStatus.Complete when header.Remaining >= (long)length:
                    var payload = buffer.Slice(header.Position, (long)length);
                    T message;
                    try
                    {
                        message = Parse(parser, payload, protocol);
                    }
                    catch (BridgeProtocolException)
                    {
                        reader.AdvanceTo(buffer.Start);
                        throw;
                    }

                    reader.AdvanceTo(payload.End);
                    return message;
                case LengthPrefixStatus.Complete when length > LargeMessageBytes:
                    reader.AdvanceTo(header.Position);
                    return await ReadLargeAsync(reader, parser, (int)length, protocol, ct);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return buffer.IsEmpty ? null : throw new BridgeProtocolException($"{protocol}: the stream ended inside a message.");
            }
        }
    }

    private static async ValueTask<T> ReadLargeAsync<T>(PipeReader reader, MessageParser<T> parser, int length, string protocol, CancellationToken ct)
        where T : class, IMessage<T>
    {
        // Grown as bytes arrive, not rented at the declared length: a peer that declares a large message and sends
        // little of it holds no more memory than it sent.
        var rented = ArrayPool<byte>.Shared.Rent(Math.Min(length, 4 * LargeMessageBytes));
        try
        {
            var filled = 0;
            while (filled < length)
            {
                var result = await reader.ReadAsync(ct);
                var n = (int)Math.Min(result.Buffer.Length, length - filled);
                if (filled + n > rented.Length)
                {
                    var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, Math.Max((long)rented.Length * 2, filled + n)));
                    rented.AsSpan(0, filled).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = grown;
                }

                result.Buffer.Slice(0, n).CopyTo(rented.AsSpan(filled));
                filled += n;
                reader.AdvanceTo(result.Buffer.GetPosition(n));
                if (n == 0 && result.IsCompleted)
                {
                    throw new BridgeProtocolException($"{protocol}: the stream ended inside a message.");
                }
            }

            // Bytes fields are copied out of the span, so the buffer can go back to the pool.
            return Parse(parser, new ReadOnlySequence<byte>(rented, 0, length), protocol);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload, string protocol)
        where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new BridgeProtocolException($"{protocol}: a malformed {typeof(T).Name} ({e.Message})", e);
        }
    }

    /// <summary>
    /// Reads the next body frame into <paramref name="destination"/> as far as it fits; returns the bytes copied, or
    /// 0 when the body ended (an empty frame); <paramref name="state"/> carries what is left of a frame across calls.
    /// </summary>
    public static async ValueTask<int> ReadFrameAsync(PipeReader reader, Memory<byte> destination, FrameState state, int maxLength, string protocol, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (state.Remaining == 0)
            {
                var header = new SequenceReader<byte>(buffer);
                var status = LengthPrefix.TryReadPrefix(ref header, maxLength, out var length);
                if (status == LengthPrefixStatus.BadPrefix)
                {
                    throw new BridgeProtocolException($"{protocol}: a bad frame length prefix.");
                }

                if (status == LengthPrefixStatus.TooLong)
                {
                    throw new BridgeProtocolException($"{protocol}: a {length}-byte body frame (at most {maxLength}, Xmbl:Gateway:P2P:MaxFrameBytes).");
                }

                if (status == LengthPrefixStatus.Incomplete)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        throw new BridgeProtocolException($"{protocol}: the stream ended before the body's end frame.");
                    }

                    continue;
                }

                buffer = buffer.Slice(header.Position);
                if (length == 0)
                {
                    reader.AdvanceTo(buffer.Start);
                    state.Ended = true;
                    return 0;
                }

                state.Remaining = (int)length;
            }

            if (buffer.IsEmpty)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    throw new BridgeProtocolException($"{protocol}: the stream ended inside a body frame.");
                }

                continue;
            }

            var n = (int)Math.Min(Math.Min(buffer.Length, state.Remaining), destination.Length);
            buffer.Slice(0, n).CopyTo(destination.Span);
            state.Remaining -= n;
            reader.AdvanceTo(buffer.GetPosition(n));
            return n;
        }
    }

    /// <summary>
    /// Messages longer than this are serialized into one pooled buffer and sent as one write, as body frames are (see
    /// <see cref="WriteFrameAsync"/>); shorter ones fit the stream writer's first 4 KiB segment.
    /// </summary>
    public const int SingleWriteMessageBytes = 4096;

    /// <summary>Writes one message (prefix and bytes) and flushes.</summary>
    public static ValueTask<FlushResult> WriteMessageAsync(PipeWriter writer, IMessage message, CancellationToken ct)
    {
        var size = message.CalculateSize();
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)size));
        if (size > SingleWriteMessageBytes)
        {
            return WriteLargeMessageAsync(writer, message, size, ct);
        }

        message.WriteTo(writer);
        return writer.FlushAsync(ct);
    }

    private static async ValueTask<FlushResult> WriteLargeMessageAsync(PipeWriter writer, IMessage message, int size, CancellationToken ct)
    {
        var rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            message.WriteTo(rented.AsSpan(0, size));
            return await writer.WriteAsync(rented.AsMemory(0, size), ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Writes a body frame and sends it. The bytes go to the stream as one write, not copied: buffered through the
    /// stream's <see cref="PipeWriter"/> a 1 MiB frame would reach yamux as 256 writes of its 4 KiB segments, each a
    /// wake-up of the session writer and a Noise frame of its own.
    /// </summary>
    public static ValueTask<FlushResult> WriteFrameAsync(PipeWriter writer, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)data.Length));
        return writer.WriteAsync(data, ct);
    }

    /// <summary>Writes a small body frame (an empty one ends the body); the caller flushes. Bulk frames go through <see cref="WriteFrameAsync"/>.</summary>
    public static void WriteFrame(PipeWriter writer, ReadOnlySpan<byte> data)
    {
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)data.Length));
        writer.Write(data);
    }
}

/// <summary>Where a reader is inside the body frames.</summary>
internal sealed class FrameState
{
    public int Remaining { get; set; }

    public bool Ended { get; set; }
}

/// <summary>An object body read from body frames as a <see cref="Stream"/>, so the object service pulls it at its own pace.</summary>
internal sealed class FramedBodyStream(YamuxStream stream, int maxFrame, string protocol) : ForwardReadStream
{
    private readonly FrameState _state = new();

    public bool Ended => _state.Ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!_state.Ended && buffer.Length > 0)
        {
            var n = await Framing.ReadFrameAsync(stream.Input, buffer, _state, maxFrame, protocol, cancellationToken);
            if (n > 0)
            {
                return n;
            }
        }

        return 0;
    }
}
