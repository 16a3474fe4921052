using System.Buffers.Binary;
using System.Text;

namespace Xmbl.Cluster.Services;

/// <summary>
/// What a task's run produced, as the one byte string a job's proof covers: stdout, every file the module left under
/// <c>/output</c>, and every object it wrote through the storage proxy, in a canonical order. A task runs as a job, and
/// the job's result hash is taken over this bundle instead of bare stdout, so a validator agrees only when it produced
/// the same files and the same storage writes byte for byte; only then are they stored.
/// </summary>
/// <remarks>
/// Layout (integers little-endian): the 8 bytes <c>XMBLTO1\n</c>; u32 stdout length, stdout; u32 file count, then per
/// file in ordinal name order u16 name length, UTF-8 name, u32 length, bytes; u32 write count, then per storage write
/// in ordinal address order the same. Equal contents give equal bytes on every node and engine.
/// </remarks>
public sealed class TaskOutputBundle
{
    private static ReadOnlySpan<byte> Magic => "XMBLTO1\n"u8;

    /// <summary>Creates a bundle.</summary>
    /// <param name="stdout">The module's stdout (its log).</param>
    /// <param name="files">Files under <c>/output</c>, by name.</param>
    /// <param name="storageWrites">Objects written through the storage proxy, by <c>namespace/name</c>.</param>
    public TaskOutputBundle(byte[] stdout, IReadOnlyDictionary<string, byte[]> files, IReadOnlyDictionary<string, byte[]> storageWrites)
    {
        Stdout = stdout ?? throw new ArgumentNullException(nameof(stdout));
        Files = files ?? throw new ArgumentNullException(nameof(files));
        StorageWrites = storageWrites ?? throw new ArgumentNullException(nameof(storageWrites));
    }

    /// <summary>The module's stdout.</summary>
    public byte[] Stdout { get; }

    /// <summary>Files under <c>/output</c>, by name.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>Objects written through the storage proxy, by <c>namespace/name</c>; committed only after validation.</summary>
    public IReadOnlyDictionary<string, byte[]> StorageWrites { get; }

    /// <summary>The canonical bytes.</summary>
    /// <returns>The encoding.</returns>
    public byte[] Encode()
    {
        var size = Magic.Length + 4 + Stdout.Length + 8;
        foreach (var (name, bytes) in Files.Concat(StorageWrites))
        {
            size += 2 + Encoding.UTF8.GetByteCount(name) + 4 + bytes.Length;
        }

        var buffer = new byte[size];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)Stdout.Length);
        at += 4;
        Stdout.CopyTo(span[at..]);
        at += Stdout.Length;
        at = WriteEntries(span, at, Files);
        WriteEntries(span, at, StorageWrites);
        return buffer;
    }

    /// <summary>Reads a bundle <see cref="Encode"/> wrote.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <param name="bundle">The bundle, when well-formed.</param>
    /// <returns>Whether the bytes are a bundle.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TaskOutputBundle? bundle)
    {
        bundle = null;
        if (!bytes.StartsWith(Magic))
        {
            return false;
        }

        var at = Magic.Length;
        if (!TryReadBlock(bytes, ref at, out var stdout)
            || !TryReadEntries(bytes, ref at, out var files)
            || !TryReadEntries(bytes, ref at, out var writes)
            || at != bytes.Length)
        {
            return false;
        }

        bundle = new TaskOutputBundle(stdout, files, writes);
        return true;
    }

    private static int WriteEntries(Span<byte> span, int at, IReadOnlyDictionary<string, byte[]> entries)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)entries.Count);
        at += 4;
        foreach (var name in entries.Keys.Order(StringComparer.Ordinal))
        {
            var bytes = entries[name];
            var n = Encoding.UTF8.GetBytes(name, span[(at + 2)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)n);
            at += 2 + n;
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)bytes.Length);
            at += 4;
            bytes.CopyTo(span[at..]);
            at += bytes.Length;
        }

        return at;
    }

    private static bool TryReadBlock(ReadOnlySpan<byte> bytes, ref int at, out byte[] block)
    {
        block = [];
        if (bytes.Length - at < 4)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);
        at += 4;
        if (length > (uint)(bytes.Length - at))
        {
            return false;
        }

        block = bytes.Slice(at, (int)length).ToArray();
        at += (int)length;
        return true;
    }

    private static bool TryReadEntries(ReadOnlySpan<byte> bytes, ref int at, out Dictionary<string, byte[]> entries)
    {
        entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (bytes.Length - at < 4)
        {
            return false;
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);
        at += 4;
        for (var i = 0u; i < count; i++)
        {
            if (bytes.Length - at < 2)
            {
                return false;
            }

            var n = BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]);
            at += 2;
            if (n > bytes.Length - at)
            {
                return false;
            }

            var name = Encoding.UTF8.GetString(bytes.Slice(at, n));
            at += n;
            if (!TryReadBlock(bytes, ref at, out var content) || !entries.TryAdd(name, content))
            {
                return false;
            }
        }

        return true;
    }
}
