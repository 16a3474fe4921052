using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Xmbl.Cluster.Ledger;

/// <summary>
/// That an account had a balance in a sealed <see cref="BalanceTree"/>: the leaf, its position and the sibling hashes
/// from the leaf up. Verifiable offline against the root alone.
/// </summary>
/// <param name="Account">The account.</param>
/// <param name="Balance">Its balance in micro-xmbl.c.</param>
/// <param name="LeafIndex">The leaf's position in canonical order.</param>
/// <param name="TreeSize">The number of leaves.</param>
/// <param name="Path">The sibling hashes (32 bytes each), nearest the leaf first.</param>
public sealed record BalanceProof(string Account, long Balance, long LeafIndex, long TreeSize, IReadOnlyList<byte[]> Path)
{
    /// <summary>The first byte of the binary form.</summary>
    public const byte FormatVersion = 1;

    // A tree of 2^63 leaves has a path of at most 63 hashes.
    private const int MaxPathLength = 63;

    /// <summary>Whether the proof holds for <paramref name="root"/> (32 bytes); false for any malformed proof.</summary>
    public bool Verify(ReadOnlySpan<byte> root)
    {
        if (root.Length != BalanceTree.HashLength || LeafIndex < 0 || LeafIndex >= TreeSize || Path is null || Path.Count > MaxPathLength
            || string.IsNullOrEmpty(Account) || Encoding.UTF8.GetByteCount(Account) > BalanceTree.MaxAccountBytes || Balance < 0)
        {
            return false;
        }

        // RFC 9162 section 2.1.3.2, with our tagged node hash.
        var fn = LeafIndex;
        var sn = TreeSize - 1;
        var r = BalanceTree.HashLeaf(new BalanceLeaf(Account, Balance));
        foreach (var p in Path)
        {
            if (p is not { Length: BalanceTree.HashLength } || sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = BalanceTree.HashNode(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = BalanceTree.HashNode(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(BalanceTree.RootOf(TreeSize, r), root);
    }

    /// <summary>
    /// The binary form: version (1 byte, 1), account length (1 byte) and UTF-8 bytes, balance, leaf index and tree size
    /// (8 bytes big-endian each), path length (1 byte) and the path's hashes (32 bytes each).
    /// </summary>
    public byte[] ToBytes()
    {
        var account = Encoding.UTF8.GetBytes(Account);
        var bytes = new byte[1 + 1 + account.Length + 24 + 1 + Path.Count * BalanceTree.HashLength];
        var at = 0;
        bytes[at++] = FormatVersion;
        bytes[at++] = checked((byte)account.Length);
        account.CopyTo(bytes, at);
        at += account.Length;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at), Balance);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 8), LeafIndex);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 16), TreeSize);
        at += 24;
        bytes[at++] = checked((byte)Path.Count);
        foreach (var hash in Path)
        {
            hash.CopyTo(bytes, at);
            at += BalanceTree.HashLength;
        }

        return bytes;
    }

    /// <summary>Reads the binary form; false when it is malformed (wrong version, lengths, trailing bytes, invalid UTF-8).</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out BalanceProof? proof)
    {
        proof = null;
        if (bytes.Length < 2 || bytes[0] != FormatVersion)
        {
            return false;
        }

        int accountLength = bytes[1];
        var at = 2;
        if (accountLength == 0 || bytes.Length < at + accountLength + 25)
        {
            return false;
        }

        string account;
        try
        {
            account = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.Slice(at, accountLength));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        at += accountLength;
        var balance = BinaryPrimitives.ReadInt64BigEndian(bytes[at..]);
        var index = BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 8)..]);
        var size = BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 16)..]);
        at += 24;
        int count = bytes[at++];
        if (count > MaxPathLength || bytes.Length != at + count * BalanceTree.HashLength)
        {
            return false;
        }

        var path = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            path[i] = bytes.Slice(at + i * BalanceTree.HashLength, BalanceTree.HashLength).ToArray();
        }

        proof = new BalanceProof(account, balance, index, size, path);
        return true;
    }

    /// <summary>Whether the binary proof <paramref name="proofBytes"/> is well formed and holds for <paramref name="root"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> proofBytes, ReadOnlySpan<byte> root) =>
        TryParse(proofBytes, out var proof) && proof!.Verify(root);
}
