using System.Buffers.Binary;

namespace Xmbl.Cluster.P2P.Yamux;

/// <summary>Yamux frame types.</summary>
internal enum YamuxType : byte
{
    Data = 0,
    WindowUpdate = 1,
    Ping = 2,
    GoAway = 3,
}

/// <summary>Yamux header flags.</summary>
[Flags]
internal enum YamuxFlags : ushort
{
    None = 0,
    Syn = 1,
    Ack = 2,
    Fin = 4,
    Rst = 8,
}

/// <summary>The 12-byte yamux header: version, type, flags, stream id, length (big-endian).</summary>
internal readonly record struct YamuxHeader(YamuxType Type, YamuxFlags Flags, uint StreamId, uint Length)
{
    public const int Size = 12;

    public const uint GoAwayNormal = 0;
    public const uint GoAwayProtocolError = 1;
    public const uint GoAwayInternalError = 2;

    public void Write(Span<byte> destination)
    {
        destination[0] = 0;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    /// <exception cref="P2PProtocolException">An unknown version or type.</exception>
    public static YamuxHeader Read(ReadOnlySpan<byte> source)
    {
        if (source[0] != 0)
        {
            throw new P2PProtocolException($"yamux: version {source[0]} (only 0 exists).");
        }

        if (source[1] > (byte)YamuxType.GoAway)
        {
            throw new P2PProtocolException($"yamux: unknown frame type {source[1]}.");
        }

        return new YamuxHeader(
            (YamuxType)source[1],
            (YamuxFlags)BinaryPrimitives.ReadUInt16BigEndian(source[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[8..]));
    }
}
