using System.Buffers;

namespace Xmbl.Cluster.P2P.Multiformats;

/// <summary>Unsigned LEB128 varints (multiformats <c>uvarint</c>, protobuf varints).</summary>
public static class Varint
{
    /// <summary>The most bytes a 64-bit varint takes.</summary>
    public const int MaxLength64 = 10;

    /// <summary>Bytes needed to encode <paramref name="value"/>.</summary>
    public static int GetLength(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint of at most <paramref name="maxBytes"/> bytes; returns bytes consumed, 0 when more input is needed.</summary>
    /// <exception cref="FormatException">The varint is longer than <paramref name="maxBytes"/>, or not minimally encoded.</exception>
    public static int TryRead(ReadOnlySpan<byte> source, out ulong value, int maxBytes = MaxLength64)
    {
        value = 0;
        var shift = 0;
        for (var i = 0; i < source.Length; i++)
        {
            if (i >= maxBytes)
            {
                throw new FormatException($"A varint longer than {maxBytes} bytes.");
            }

            var b = source[i];
            if (i == MaxLength64 - 1 && b > 1)
            {
                throw new FormatException("A varint overflowing 64 bits.");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                if (b == 0 && i > 0)
                {
                    throw new FormatException("A varint that is not minimally encoded.");
                }

                return i + 1;
            }

            shift += 7;
        }

        if (source.Length >= maxBytes)
        {
            throw new FormatException($"A varint longer than {maxBytes} bytes.");
        }

        return 0;
    }

    /// <summary>Reads a varint from a sequence; returns false when more input is needed.</summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out ulong value, int maxBytes = MaxLength64)
    {
        Span<byte> buffer = stackalloc byte[MaxLength64];
        var available = (int)Math.Min(reader.Remaining, maxBytes);
        var peek = buffer[..available];
        reader.TryCopyTo(peek);
        var n = TryRead(peek, out value, maxBytes);
        if (n == 0)
        {
            return false;
        }

        reader.Advance(n);
        return true;
    }

    /// <summary>Reads a complete varint or throws.</summary>
    /// <exception cref="FormatException">Truncated or malformed.</exception>
    public static ulong Read(ReadOnlySpan<byte> source, out int consumed, int maxBytes = MaxLength64)
    {
        consumed = TryRead(source, out var value, maxBytes);
        return consumed == 0 ? throw new FormatException("A truncated varint.") : value;
    }
}
