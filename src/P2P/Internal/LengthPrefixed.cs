using System.Buffers;
using System.IO.Pipelines;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P.Internal;

/// <summary>uvarint-length-prefixed messages on a stream, as libp2p's protobuf protocols frame them.</summary>
internal static class LengthPrefixed
{
    /// <summary>Reads one message; null when the stream ended cleanly before one started.</summary>
    /// <exception cref="P2PProtocolException">Longer than <paramref name="maxLength"/>, or cut short.</exception>
    public static async ValueTask<byte[]?> ReadAsync(PipeReader reader, int maxLength, string protocol, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryRead(buffer, maxLength, protocol, out var message, out var consumed))
            {
                reader.AdvanceTo(consumed);
                return message;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return buffer.IsEmpty ? null : throw new P2PProtocolException($"{protocol}: the stream ended inside a message.");
            }
        }
    }

    public static async ValueTask WriteAsync(YamuxStream stream, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var framed = new byte[Varint.GetLength((ulong)message.Length) + message.Length];
        var n = Varint.Write(framed, (ulong)message.Length);
        message.Span.CopyTo(framed.AsSpan(n));
        await stream.WriteAsync(framed, cancellationToken);
    }

    private static bool TryRead(ReadOnlySequence<byte> buffer, int maxLength, string protocol, out byte[] message, out SequencePosition consumed)
    {
        switch (LengthPrefix.TryParse(buffer, maxLength, out var payload, out consumed, out var length))
        {
            case LengthPrefixStatus.Complete:
                message = payload.ToArray();
                return true;
            case LengthPrefixStatus.Incomplete:
                message = [];
                return false;
            case LengthPrefixStatus.BadPrefix:
                throw new P2PProtocolException($"{protocol}: a bad length prefix.");
            default:
                throw new P2PProtocolException($"{protocol}: a {length}-byte message (at most {maxLength}).");
        }
    }
}
