namespace Xmbl.Cluster.Storage.Codec.Internal;

/// <summary>
/// A bounded LRU of decode tables keyed by the set of k shards a reconstruction reads from. Reads tend to repeat the
/// same erasure pattern (the same node is down for every stripe), so the matrix inversion and table expansion run
/// once per pattern rather than once per stripe. Safe for concurrent use.
/// </summary>
internal sealed class DecodeMatrixCache
{
    private readonly Dictionary<RowSet, LinkedListNode<(RowSet Key, DecodeTables Value)>> _map = [];
    private readonly LinkedList<(RowSet Key, DecodeTables Value)> _lru = new();
    private readonly Lock _lock = new();

    public DecodeMatrixCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Returns the cached tables for <paramref name="key"/>, building them outside the lock on a miss.</summary>
    public DecodeTables GetOrAdd<TState>(RowSet key, TState state, Func<TState, RowSet, DecodeTables> factory)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                return node.Value.Value;
            }
        }

        var created = factory(state, key);
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var raced))
            {
                return raced.Value.Value;
            }

            _map[key] = _lru.AddFirst((key, created));
            while (_map.Count > Capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }

        return created;
    }
}
