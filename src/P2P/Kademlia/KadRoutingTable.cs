using System.Security.Cryptography;

namespace Xmbl.Cluster.P2P.Kademlia;

/// <summary>Kademlia k-buckets: peers grouped by the length of the prefix their key hash shares with ours.</summary>
/// <remarks>
/// Distance is the XOR of SHA-256 hashes (of the peer id's bytes, or of the key). Each of the 256 buckets keeps at most
/// <see cref="BucketSize"/> peers, most recently seen last; a full bucket keeps its old peers (they have proven to
/// stay up) and drops the newcomer. Thread-safe.
/// </remarks>
public sealed class KadRoutingTable
{
    /// <summary>k: peers per bucket, and peers returned per query.</summary>
    public const int BucketSize = 20;

    private readonly byte[] _self;
    private readonly List<KadPeer>[] _buckets = [.. Enumerable.Range(0, 257).Select(_ => new List<KadPeer>())];
    private readonly object _lock = new();

    /// <summary>A table centred on <paramref name="self"/>.</summary>
    public KadRoutingTable(PeerId self)
    {
        ArgumentNullException.ThrowIfNull(self);
        Self = self;
        _self = SHA256.HashData(self.Bytes);
    }

    /// <summary>Our own id.</summary>
    public PeerId Self { get; }

    /// <summary>Peers in the table.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Sum(b => b.Count);
            }
        }
    }

    /// <summary>Adds or refreshes a peer; false when its bucket is full (or it is us).</summary>
    public bool AddOrUpdate(KadPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Id.Equals(Self))
        {
            return false;
        }

        var bucket = _buckets[CommonPrefixLength(_self, SHA256.HashData(peer.Id.Bytes))];
        lock (_lock)
        {
            var index = bucket.FindIndex(p => p.Id.Equals(peer.Id));
            if (index >= 0)
            {
                var known = bucket[index];
                bucket.RemoveAt(index);
                bucket.Add(peer.Addresses.Count > 0 ? peer : known);
                return true;
            }

            if (bucket.Count >= BucketSize)
            {
                return false;
            }

            bucket.Add(peer);
            return true;
        }
    }

    /// <summary>Removes a peer (it stopped answering).</summary>
    public void Remove(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var bucket = _buckets[CommonPrefixLength(_self, SHA256.HashData(peer.Bytes))];
        lock (_lock)
        {
            bucket.RemoveAll(p => p.Id.Equals(peer));
        }
    }

    /// <summary>The peer with this id, if present.</summary>
    public KadPeer? Find(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var bucket = _buckets[CommonPrefixLength(_self, SHA256.HashData(peer.Bytes))];
        lock (_lock)
        {
            return bucket.Find(p => p.Id.Equals(peer));
        }
    }

    /// <summary>The <paramref name="count"/> peers closest to <paramref name="key"/>, closest first.</summary>
    public IReadOnlyList<KadPeer> Nearest(ReadOnlySpan<byte> key, int count = BucketSize)
    {
        var target = SHA256.HashData(key);
        List<KadPeer> all;
        lock (_lock)
        {
            all = [.. _buckets.SelectMany(b => b)];
        }

        return [.. all.OrderBy(p => SHA256.HashData(p.Id.Bytes), new DistanceComparer(target)).Take(count)];
    }

    /// <summary>Compares two hashes by their XOR distance to a target.</summary>
    internal sealed class DistanceComparer(byte[] target) : IComparer<byte[]>
    {
        public int Compare(byte[]? x, byte[]? y)
        {
            for (var i = 0; i < target.Length; i++)
            {
                var dx = x![i] ^ target[i];
                var dy = y![i] ^ target[i];
                if (dx != dy)
                {
                    return dx.CompareTo(dy);
                }
            }

            return 0;
        }
    }

    private static int CommonPrefixLength(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            var x = a[i] ^ b[i];
            if (x != 0)
            {
                return (i * 8) + System.Numerics.BitOperations.LeadingZeroCount((uint)x) - 24;
            }
        }

        return a.Length * 8;
    }
}
