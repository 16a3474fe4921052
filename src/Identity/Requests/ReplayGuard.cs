namespace Xmbl.Cluster.Identity.Requests;

/// <summary>
/// Remembers the (signer, nonce) pairs of accepted requests while their timestamps are inside the window, so that
/// none is accepted twice, in bounded memory.
/// </summary>
/// <remarks>
/// A pair can be forgotten once its timestamp is older than the window: the request would be refused as stale
/// anyway. When the cache is full of pairs still inside the window, the pair with the oldest timestamp is forgotten
/// and that timestamp becomes a floor: from then on a request stamped at or before the floor is refused. So a full
/// cache narrows the window the gateway accepts instead of ever letting a replay through. Thread-safe.
/// </remarks>
public sealed class ReplayGuard
{
    private readonly Dictionary<(string Signer, string Nonce), long> _seen = [];
    private readonly PriorityQueue<(string Signer, string Nonce), long> _byTimestamp = new();
    private readonly Lock _lock = new();
    private readonly int _capacity;
    private readonly long _windowMs;
    private long _floor = long.MinValue;

    /// <summary>Creates a guard holding at most <paramref name="capacity"/> pairs.</summary>
    /// <param name="capacity">The most pairs remembered.</param>
    /// <param name="window">How far a timestamp may be from now (the verifier's clock skew).</param>
    public ReplayGuard(int capacity, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _capacity = capacity;
        _windowMs = (long)window.TotalMilliseconds;
    }

    /// <summary>Pairs remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>
    /// Records a pair; <see cref="ReplayOutcome.Accepted"/> the first time, <see cref="ReplayOutcome.Replayed"/> after,
    /// <see cref="ReplayOutcome.BelowFloor"/> when the cache has had to forget pairs at least as old.
    /// </summary>
    public ReplayOutcome TryAccept(string signer, string nonce, long timestampMs, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(nonce);
        var key = (signer, nonce);
        lock (_lock)
        {
            while (_byTimestamp.TryPeek(out var oldKey, out var oldTimestamp) && oldTimestamp < nowMs - _windowMs)
            {
                _byTimestamp.Dequeue();
                _seen.Remove(oldKey);
            }

            if (timestampMs <= _floor)
            {
                return ReplayOutcome.BelowFloor;
            }

            if (_seen.ContainsKey(key))
            {
                return ReplayOutcome.Replayed;
            }

            if (_seen.Count >= _capacity)
            {
                _byTimestamp.TryPeek(out _, out var oldest);
                if (timestampMs <= oldest)
                {
                    // Older than everything kept: remembering it would mean forgetting a younger pair.
                    return ReplayOutcome.BelowFloor;
                }

                var evicted = _byTimestamp.Dequeue();
                _seen.Remove(evicted);
                _floor = Math.Max(_floor, oldest);
            }

            _seen.Add(key, timestampMs);
            _byTimestamp.Enqueue(key, timestampMs);
            return ReplayOutcome.Accepted;
        }
    }
}

/// <summary>What <see cref="ReplayGuard.TryAccept"/> decided.</summary>
public enum ReplayOutcome
{
    /// <summary>First use of the nonce.</summary>
    Accepted,

    /// <summary>The nonce was used before by the same signer.</summary>
    Replayed,

    /// <summary>The timestamp is at or before the oldest one the full cache had to forget.</summary>
    BelowFloor,
}
