using System.Buffers.Binary;

namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>Thrown when a guest passes a pointer/length outside its memory; becomes <c>EFAULT</c>.</summary>
internal sealed class WasiFaultException : Exception
{
    public WasiFaultException()
        : base("guest pointer out of bounds")
    {
    }
}

/// <summary>Bounds-checked little-endian access to a guest's linear memory during one host call.</summary>
/// <remarks>Never hold a span across anything that can grow the memory; WASI calls never do.</remarks>
/// <remarks>Over a base address and a length, so any engine whose linear memory is native (ours, Wasmtime's) can
/// hand its memory to the same WASI code.</remarks>
internal readonly unsafe ref struct GuestMemory
{
    private readonly byte* _base;
    private readonly ulong _length;

    public GuestMemory(nint baseAddress, ulong length)
    {
        _base = (byte*)baseAddress;
        _length = length;
    }

    public GuestMemory(Memory memory)
        : this(memory.BaseAddress, memory.ByteLength)
    {
    }

    public Span<byte> Slice(uint pointer, uint length)
    {
        if ((ulong)pointer + length > _length || length > int.MaxValue)
        {
            throw new WasiFaultException();
        }

        return length == 0 ? Span<byte>.Empty : new Span<byte>(_base + pointer, (int)length);
    }

    public byte ReadU8(uint pointer) => Slice(pointer, 1)[0];

    public ushort ReadU16(uint pointer) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(pointer, 2));

    public uint ReadU32(uint pointer) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(pointer, 4));

    public ulong ReadU64(uint pointer) => BinaryPrimitives.ReadUInt64LittleEndian(Slice(pointer, 8));

    public void WriteU8(uint pointer, byte value) => Slice(pointer, 1)[0] = value;

    public void WriteU16(uint pointer, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Slice(pointer, 2), value);

    public void WriteU32(uint pointer, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Slice(pointer, 4), value);

    public void WriteU64(uint pointer, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Slice(pointer, 8), value);

    /// <summary>Decodes a guest string (UTF-8, not NUL-terminated).</summary>
    public WasiErrno ReadString(uint pointer, uint length, out string value)
    {
        value = string.Empty;
        if (length > WasiPath.MaxLength * 4)
        {
            return WasiErrno.NameTooLong;
        }

        var bytes = Slice(pointer, length);
        try
        {
            value = StrictUtf8.GetString(bytes);
            return WasiErrno.Success;
        }
        catch (System.Text.DecoderFallbackException)
        {
            return WasiErrno.IlSeq;
        }
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
