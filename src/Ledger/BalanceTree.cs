using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Xmbl.Cluster.Ledger;

/// <summary>One account's balance, a leaf of a <see cref="BalanceTree"/>.</summary>
/// <param name="Account">The account (its did:key): 1-255 bytes of UTF-8.</param>
/// <param name="Balance">The balance in micro-xmbl.c, never negative.</param>
public readonly record struct BalanceLeaf(string Account, long Balance);

/// <summary>
/// A Merkle tree over account balances (RFC 9162's tree shape, with domain-separated hashing), whose root an epoch
/// seals, and the inclusion proofs of its leaves.
/// </summary>
/// <remarks>
/// <para>Leaves are sorted by account (ordinal, UTF-8 byte order), so one set of balances has exactly one root, and
/// an account appears at most once.</para>
/// <para>Hashes are SHA-256 with a one-byte domain tag, so that no leaf can pass for an inner node nor the root for
/// either (the second-preimage attack on untagged Merkle trees):
/// leaf = H(0x00 ‖ len(account) as 1 byte ‖ account UTF-8 ‖ balance as 8 bytes big-endian);
/// node = H(0x01 ‖ left ‖ right); root = H(0x02 ‖ leaf count as 8 bytes big-endian ‖ MTH), where MTH is the RFC 9162
/// tree hash of the leaf hashes (the left subtree holds the largest power of two below the count; no leaf is
/// duplicated) and the MTH of no leaves is H() of nothing. The root commits to the leaf count, so a proof cannot
/// claim another tree size.</para>
/// </remarks>
public sealed class BalanceTree
{
    /// <summary>The length of a hash: 32 bytes.</summary>
    public const int HashLength = 32;

    /// <summary>The longest account, in UTF-8 bytes.</summary>
    public const int MaxAccountBytes = 255;

    internal const byte LeafTag = 0x00;
    internal const byte NodeTag = 0x01;
    internal const byte RootTag = 0x02;

    private readonly BalanceLeaf[] _leaves;
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<(int Start, int Count), byte[]> _subtrees = [];
    private readonly byte[] _root;

    private BalanceTree(BalanceLeaf[] leaves)
    {
        _leaves = leaves;
        _index = new Dictionary<string, int>(leaves.Length, StringComparer.Ordinal);
        for (var i = 0; i < leaves.Length; i++)
        {
            if (!_index.TryAdd(leaves[i].Account, i))
            {
                throw new ArgumentException($"Account '{leaves[i].Account}' appears twice.", nameof(leaves));
            }
        }

        _root = RootOf(leaves.Length, Subtree(0, leaves.Length));
    }

    /// <summary>The number of leaves.</summary>
    public int Count => _leaves.Length;

    /// <summary>The root (32 bytes).</summary>
    public ReadOnlySpan<byte> Root => _root;

    /// <summary>The root in lower-case hex.</summary>
    public string RootHex => Convert.ToHexStringLower(_root);

    /// <summary>The leaves in canonical order.</summary>
    public IReadOnlyList<BalanceLeaf> Leaves => _leaves;

    /// <summary>Builds the tree over <paramref name="balances"/> (any order).</summary>
    /// <exception cref="ArgumentException">An account is empty, too long, repeated, or has a negative balance.</exception>
    public static BalanceTree Build(IEnumerable<BalanceLeaf> balances)
    {
        ArgumentNullException.ThrowIfNull(balances);
        var leaves = balances.ToArray();
        foreach (var leaf in leaves)
        {
            Validate(leaf);
        }

        Array.Sort(leaves, static (a, b) => string.CompareOrdinal(a.Account, b.Account));
        return new BalanceTree(leaves);
    }

    /// <summary>The inclusion proof of <paramref name="account"/>'s balance.</summary>
    /// <exception cref="KeyNotFoundException">The account is not in the tree.</exception>
    public BalanceProof Prove(string account)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (!_index.TryGetValue(account, out var index))
        {
            throw new KeyNotFoundException($"Account '{account}' is not in the tree.");
        }

        // RFC 9162 section 2.1.3.1: the siblings from the leaf up.
        var path = new List<byte[]>();
        Path(index, 0, _leaves.Length, path);
        return new BalanceProof(_leaves[index].Account, _leaves[index].Balance, index, _leaves.Length, path);
    }

    /// <summary>The hash of a leaf.</summary>
    public static byte[] HashLeaf(BalanceLeaf leaf)
    {
        Validate(leaf);
        var accountBytes = Encoding.UTF8.GetByteCount(leaf.Account);
        Span<byte> buffer = stackalloc byte[2 + MaxAccountBytes + 8];
        buffer[0] = LeafTag;
        buffer[1] = (byte)accountBytes;
        Encoding.UTF8.GetBytes(leaf.Account, buffer[2..]);
        BinaryPrimitives.WriteInt64BigEndian(buffer[(2 + accountBytes)..], leaf.Balance);
        return SHA256.HashData(buffer[..(2 + accountBytes + 8)]);
    }

    internal static byte[] HashNode(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * HashLength];
        buffer[0] = NodeTag;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashLength)..]);
        return SHA256.HashData(buffer);
    }

    internal static byte[] RootOf(long count, ReadOnlySpan<byte> treeHash)
    {
        Span<byte> buffer = stackalloc byte[1 + 8 + HashLength];
        buffer[0] = RootTag;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], count);
        treeHash.CopyTo(buffer[9..]);
        return SHA256.HashData(buffer);
    }

    internal static void Validate(BalanceLeaf leaf)
    {
        if (string.IsNullOrEmpty(leaf.Account))
        {
            throw new ArgumentException("An account is not empty.", nameof(leaf));
        }

        if (Encoding.UTF8.GetByteCount(leaf.Account) > MaxAccountBytes)
        {
            throw new ArgumentException($"An account is at most {MaxAccountBytes} bytes of UTF-8.", nameof(leaf));
        }

        if (leaf.Balance < 0)
        {
            throw new ArgumentException($"Account '{leaf.Account}' has a negative balance ({leaf.Balance}).", nameof(leaf));
        }
    }

    /// <summary>The largest power of two below <paramref name="n"/> (n ≥ 2).</summary>
    internal static long Split(long n) => 1L << (int)(63 - long.LeadingZeroCount(n - 1));

    private byte[] Subtree(int start, int count)
    {
        if (_subtrees.TryGetValue((start, count), out var known))
        {
            return known;
        }

        var hash = count switch
        {
            0 => SHA256.HashData(ReadOnlySpan<byte>.Empty),
            1 => HashLeaf(_leaves[start]),
            _ => HashNode(Subtree(start, (int)Split(count)), Subtree(start + (int)Split(count), count - (int)Split(count))),
        };
        _subtrees[(start, count)] = hash;
        return hash;
    }

    private void Path(int index, int start, int count, List<byte[]> path)
    {
        if (count <= 1)
        {
            return;
        }

        var k = (int)Split(count);
        if (index < k)
        {
            Path(index, start, k, path);
            path.Add(Subtree(start + k, count - k));
        }
        else
        {
            Path(index - k, start + k, count - k, path);
            path.Add(Subtree(start, k));
        }
    }
}
