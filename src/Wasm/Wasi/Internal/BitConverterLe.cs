using System.Buffers.Binary;

namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>Short names for the little-endian reads/writes used by the WASI structure layouts.</summary>
internal static class BitConverterLe
{
    public static ushort ReadU16(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadUInt16LittleEndian(s);

    public static uint ReadU32(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadUInt32LittleEndian(s);

    public static ulong ReadU64(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadUInt64LittleEndian(s);

    public static void WriteU16(Span<byte> s, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(s, v);

    public static void WriteU32(Span<byte> s, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(s, v);

    public static void WriteU64(Span<byte> s, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(s, v);
}
