using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// A bounds-checked cursor over WebAssembly binary bytes. Every read checks the remaining length first and throws
/// <see cref="WasmMalformedException"/> with the spec's wording; LEB128 decoding follows the spec exactly
/// (at most ceil(N/7) bytes, unused bits of the last byte zero- or sign-consistent).
/// </summary>
internal ref struct WasmBinaryReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly int _baseOffset;
    private readonly string _endMessage;
    private int _position;

    /// <summary>Creates a reader over <paramref name="bytes"/>; <paramref name="baseOffset"/> is only used in messages.</summary>
    public WasmBinaryReader(ReadOnlySpan<byte> bytes, int baseOffset = 0, bool inSection = false)
    {
        _bytes = bytes;
        _baseOffset = baseOffset;
        _position = 0;
        _endMessage = inSection ? "unexpected end of section or function" : "unexpected end";
    }

    /// <summary>Position relative to the start of the span.</summary>
    public int Position
    {
        readonly get => _position;
        set
        {
            if ((uint)value > (uint)_bytes.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(value));
            }

            _position = value;
        }
    }

    /// <summary>Position relative to the start of the module (for messages).</summary>
    public readonly int AbsolutePosition => _baseOffset + _position;

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _bytes.Length - _position;

    /// <summary>Whether all bytes were consumed.</summary>
    public readonly bool AtEnd => _position >= _bytes.Length;

    /// <summary>The underlying span.</summary>
    public readonly ReadOnlySpan<byte> Span => _bytes;

    /// <summary>Reads one byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte()
    {
        if (_position >= _bytes.Length)
        {
            ThrowUnexpectedEnd();
        }

        return _bytes[_position++];
    }

    /// <summary>Peeks at the next byte without consuming it.</summary>
    public readonly byte PeekByte()
    {
        if (_position >= _bytes.Length)
        {
            ThrowUnexpectedEnd();
        }

        return _bytes[_position];
    }

    /// <summary>Reads <paramref name="count"/> raw bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > Remaining)
        {
            ThrowUnexpectedEnd();
        }

        var span = _bytes.Slice(_position, count);
        _position += count;
        return span;
    }

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    public void Skip(int count) => ReadBytes(count);

    /// <summary>Reads an unsigned 32-bit LEB128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadVarU32()
    {
        if (_position < _bytes.Length)
        {
            var b = _bytes[_position];
            if (b < 0x80)
            {
                _position++;
                return b;
            }
        }

        return ReadVarU32Slow();
    }

    private uint ReadVarU32Slow()
    {
        uint result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28)
            {
                if ((b & 0x80) != 0)
                {
                    ThrowMalformed("integer representation too long");
                }

                if ((b & 0x70) != 0)
                {
                    ThrowMalformed("integer too large");
                }

                return result | ((uint)b << 28);
            }

            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }

    /// <summary>Reads an unsigned 32-bit LEB128 that must fit an <see cref="int"/> count, and must not exceed the bytes left
    /// when each element needs at least <paramref name="minElementSize"/> bytes.</summary>
    public int ReadCount(int minElementSize, int limit, string what)
    {
        var count = ReadVarU32();
        if (count > (uint)limit)
        {
            ThrowMalformed($"{what} count {count} exceeds the limit of {limit}");
        }

        if (minElementSize > 0 && (long)count * minElementSize > Remaining)
        {
            ThrowUnexpectedEnd();
        }

        return (int)count;
    }

    /// <summary>Reads a signed 32-bit LEB128.</summary>
    public int ReadVarI32()
    {
        int result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28)
            {
                if ((b & 0x80) != 0)
                {
                    ThrowMalformed("integer representation too long");
                }

                var high = b & 0x78;
                if (high != 0 && high != 0x78)
                {
                    ThrowMalformed("integer too large");
                }

                return result | (b << 28);
            }

            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                shift += 7;
                return shift < 32 && (b & 0x40) != 0 ? result | (-1 << shift) : result;
            }
        }
    }

    /// <summary>Reads a signed 33-bit LEB128 (block type index).</summary>
    public long ReadVarS33()
    {
        long result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28)
            {
                if ((b & 0x80) != 0)
                {
                    ThrowMalformed("integer representation too long");
                }

                var high = b & 0x70;
                if (high != 0 && high != 0x70)
                {
                    ThrowMalformed("integer too large");
                }

                result |= (long)(b & 0x7F) << 28;
                return (result << 31) >> 31;
            }

            result |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                shift += 7;
                return (b & 0x40) != 0 ? result | (-1L << shift) : result;
            }
        }
    }

    /// <summary>Reads an unsigned 64-bit LEB128.</summary>
    public ulong ReadVarU64()
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63)
            {
                if ((b & 0x80) != 0)
                {
                    ThrowMalformed("integer representation too long");
                }

                if ((b & 0x7E) != 0)
                {
                    ThrowMalformed("integer too large");
                }

                return result | ((ulong)b << 63);
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }

    /// <summary>Reads a signed 64-bit LEB128.</summary>
    public long ReadVarI64()
    {
        long result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63)
            {
                if ((b & 0x80) != 0)
                {
                    ThrowMalformed("integer representation too long");
                }

                var high = b & 0x7F;
                if (high != 0 && high != 0x7F)
                {
                    ThrowMalformed("integer too large");
                }

                return result | ((long)b << 63);
            }

            result |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                shift += 7;
                return shift < 64 && (b & 0x40) != 0 ? result | (-1L << shift) : result;
            }
        }
    }

    /// <summary>Reads a little-endian u32 (f32 bits).</summary>
    public uint ReadFixedU32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    /// <summary>Reads a little-endian u64 (f64 bits).</summary>
    public ulong ReadFixedU64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    /// <summary>Reads a length-prefixed UTF-8 name, validating the encoding.</summary>
    public string ReadName()
    {
        var length = ReadVarU32();
        if (length > (uint)Remaining)
        {
            ThrowMalformed(length > WasmModuleLimits.MaxNameBytes ? "length out of bounds" : "unexpected end");
        }

        if (length > WasmModuleLimits.MaxNameBytes)
        {
            ThrowMalformed($"name of {length} bytes exceeds the limit of {WasmModuleLimits.MaxNameBytes}");
        }

        var bytes = ReadBytes((int)length);
        if (!Utf8.IsValid(bytes))
        {
            ThrowMalformed("malformed UTF-8 encoding");
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads a value type byte.</summary>
    public WasmValueType ReadValueType()
    {
        var b = ReadByte();
        return b switch
        {
            0x7F => WasmValueType.I32,
            0x7E => WasmValueType.I64,
            0x7D => WasmValueType.F32,
            0x7C => WasmValueType.F64,
            0x70 => WasmValueType.FuncRef,
            0x6F => WasmValueType.ExternRef,
            0x7B => throw WasmUnsupportedFeatureException.Simd(AbsolutePosition - 1),
            _ => throw Malformed($"malformed value type 0x{b:X2}"),
        };
    }

    /// <summary>Reads a reference type byte.</summary>
    public WasmValueType ReadRefType()
    {
        var b = ReadByte();
        return b switch
        {
            0x70 => WasmValueType.FuncRef,
            0x6F => WasmValueType.ExternRef,
            _ => throw Malformed("malformed reference type"),
        };
    }

    /// <summary>Creates a malformed exception carrying the current offset.</summary>
    public readonly WasmMalformedException Malformed(string message) =>
        new($"{message} (at byte offset {AbsolutePosition})");

    /// <summary>Throws a malformed exception carrying the current offset.</summary>
    [DoesNotReturn]
    public readonly void ThrowMalformed(string message) => throw Malformed(message);

    [DoesNotReturn]
    private readonly void ThrowUnexpectedEnd() => throw Malformed(_endMessage);
}
