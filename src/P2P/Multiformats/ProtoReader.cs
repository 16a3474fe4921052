using System.Buffers;
using System.Text;

namespace Xmbl.Cluster.P2P.Multiformats;

/// <summary>A minimal protobuf reader over a span: tags, varints and length-delimited fields.</summary>
public ref struct ProtoReader
{
    /// <summary>Wire type 0.</summary>
    public const int WireVarint = 0;
    /// <summary>Wire type 1.</summary>
    public const int WireFixed64 = 1;
    /// <summary>Wire type 2.</summary>
    public const int WireLength = 2;
    /// <summary>Wire type 5.</summary>
    public const int WireFixed32 = 5;

    private ReadOnlySpan<byte> _rest;

    /// <summary>Reads <paramref name="data"/>.</summary>
    public ProtoReader(ReadOnlySpan<byte> data) => _rest = data;

    /// <summary>Reads the next tag; false at the end.</summary>
    /// <exception cref="FormatException">Malformed.</exception>
    public bool TryReadTag(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (_rest.IsEmpty)
        {
            return false;
        }

        var tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return field > 0 && tag <= int.MaxValue ? true : throw new FormatException("A protobuf tag with field number 0 or out of range.");
    }

    /// <summary>Reads a varint value.</summary>
    public ulong ReadVarint()
    {
        var v = Varint.Read(_rest, out var n);
        _rest = _rest[n..];
        return v;
    }

    /// <summary>Reads a length-delimited value.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var len = ReadVarint();
        if (len > (ulong)_rest.Length)
        {
            throw new FormatException("A protobuf field longer than its message.");
        }

        var value = _rest[..(int)len];
        _rest = _rest[(int)len..];
        return value;
    }

    /// <summary>Reads a UTF-8 string value.</summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>Skips a value of the given wire type.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case WireVarint: ReadVarint(); break;
            case WireLength: ReadBytes(); break;
            case WireFixed64: Take(8); break;
            case WireFixed32: Take(4); break;
            default: throw new FormatException($"Unsupported protobuf wire type {wireType}.");
        }
    }

    private void Take(int n)
    {
        if (_rest.Length < n)
        {
            throw new FormatException("A truncated protobuf field.");
        }

        _rest = _rest[n..];
    }
}

/// <summary>A minimal protobuf writer into a growing buffer.</summary>
public sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    /// <summary>The bytes written.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>Writes a varint field.</summary>
    public ProtoWriter Varint(int field, ulong value)
    {
        WriteRaw(((ulong)field << 3) | ProtoReader.WireVarint);
        WriteRaw(value);
        return this;
    }

    /// <summary>Writes a length-delimited field.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        WriteRaw(((ulong)field << 3) | ProtoReader.WireLength);
        WriteRaw((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>Writes a string field.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>The bytes written, as an array.</summary>
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    private void WriteRaw(ulong value)
    {
        var span = _buffer.GetSpan(Multiformats.Varint.MaxLength64);
        _buffer.Advance(Multiformats.Varint.Write(span, value));
    }
}
