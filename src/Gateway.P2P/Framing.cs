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
    /// <summary>Reads one message; null when the stream ended cleanly before one started.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxLength, string protocol, CancellationToken ct)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (TryFrame(buffer, maxLength, protocol, "message", out var payload, out var end))
            {
                T message;
                try
                {
                    message = parser.ParseFrom(payload);
                }
                catch (InvalidProtocolBufferException e)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new BridgeProtocolException($"{protocol}: a malformed {typeof(T).Name} ({e.Message})", e);
                }

                reader.AdvanceTo(end);
                return message;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return buffer.IsEmpty ? null : throw new BridgeProtocolException($"{protocol}: the stream ended inside a message.");
            }
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

    /// <summary>Writes one message (prefix and bytes) and flushes.</summary>
    public static ValueTask<FlushResult> WriteMessageAsync(PipeWriter writer, IMessage message, CancellationToken ct)
    {
        var size = message.CalculateSize();
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)size));
        message.WriteTo(writer);
        return writer.FlushAsync(ct);
    }

    /// <summary>Writes a body frame (an empty one ends the body); the caller flushes.</summary>
    public static void WriteFrame(PipeWriter writer, ReadOnlySpan<byte> data)
    {
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)data.Length));
        writer.Write(data);
    }

    private static bool TryFrame(ReadOnlySequence<byte> buffer, int maxLength, string protocol, string what, out ReadOnlySequence<byte> payload, out SequencePosition end)
    {
        return LengthPrefix.TryParse(buffer, maxLength, out payload, out end, out var length) switch
        {
            LengthPrefixStatus.Complete => true,
            LengthPrefixStatus.Incomplete => false,
            LengthPrefixStatus.BadPrefix => throw new BridgeProtocolException($"{protocol}: a bad length prefix."),
            _ => throw new BridgeProtocolException($"{protocol}: a {length}-byte {what} (at most {maxLength})."),
        };
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
