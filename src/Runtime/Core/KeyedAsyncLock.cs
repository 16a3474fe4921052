namespace Xmbl.Cluster.Runtime.Core;

/// <summary>
/// In-process mutual exclusion per grain. Waiters queue here rather than in the database, so a hot key costs one
/// connection, not one per waiter. Also detects lock cycles between grains of this process (A calls B while B
/// calls A) and fails the call that would close the cycle instead of hanging.
/// </summary>
internal sealed class KeyedAsyncLock
{
    private readonly Dictionary<GrainId, Entry> _entries = [];

    /// <summary>Number of keys locked or waited for; for tests.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Acquires the lock of the grain that <paramref name="call"/> is about to run on.</summary>
    public async ValueTask<Releaser> AcquireAsync(GrainCallNode call, CancellationToken ct)
    {
        var id = call.Id;
        var caller = call.Parent;
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(id, out entry!))
            {
                entry = new Entry(id);
                _entries.Add(id, entry);
            }

            entry.RefCount++;
            if (entry.Gate.Wait(0, CancellationToken.None))
            {
                entry.Owner = call;
                entry.Held = true;
                return new Releaser(this, entry);
            }

            // Contended: record what this flow waits for and look for a cycle through the current owners.
            try
            {
                MarkWaiting(caller, entry);
                ThrowIfCycle(caller, entry);
            }
            catch
            {
                ClearWaiting(caller, entry);
                entry.RefCount--;
                throw;
            }
        }

        try
        {
            await entry.Gate.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            lock (_entries)
            {
                ClearWaiting(caller, entry);
                Unref(entry);
            }

            throw;
        }

        lock (_entries)
        {
            ClearWaiting(caller, entry);
            entry.Owner = call;
            entry.Held = true;
        }

        return new Releaser(this, entry);
    }

    private static void MarkWaiting(GrainCallNode? caller, Entry entry)
    {
        for (var n = caller; n is not null; n = n.Parent)
        {
            n.WaitingFor ??= entry;
        }
    }

    private static void ClearWaiting(GrainCallNode? caller, Entry entry)
    {
        for (var n = caller; n is not null; n = n.Parent)
        {
            if (ReferenceEquals(n.WaitingFor, entry))
            {
                n.WaitingFor = null;
            }
        }
    }

    private static void ThrowIfCycle(GrainCallNode? caller, Entry wanted)
    {
        if (caller is null)
        {
            return; // A top-level flow holds nothing, so nobody can be waiting for it.
        }

        // Follow owner -> what that owner's flow waits for -> its owner ... and see if we come back to a call we are nested in.
        var seen = 0;
        var owner = wanted.Owner;
        while (owner is not null && seen++ < 1000)
        {
            for (var n = caller; n is not null; n = n.Parent)
            {
                if (ReferenceEquals(n, owner))
                {
                    throw new InvalidOperationException(
                        $"Grain call to {wanted.Id} would deadlock: {wanted.Id} is held by a call that is itself waiting, directly or indirectly, " +
                        $"for a grain held by this call chain ({GrainCallNode.Describe(caller, wanted.Id)}). Grains must not call each other in a cycle.");
                }
            }

            var next = owner.WaitingFor;
            if (next is null)
            {
                return;
            }

            owner = next.Owner;
        }
    }

    private void Release(Entry entry)
    {
        lock (_entries)
        {
            entry.Owner = null;
            entry.Held = false;
            entry.Gate.Release();
            Unref(entry);
        }
    }

    private void Unref(Entry entry)
    {
        if (--entry.RefCount == 0)
        {
            _entries.Remove(entry.Id);
            entry.Gate.Dispose();
        }
    }

    /// <summary>The lock state of one key while anyone holds or waits for it.</summary>
    internal sealed class Entry(GrainId id)
    {
        public GrainId Id { get; } = id;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int RefCount;

        public bool Held;

        /// <summary>The call holding the lock.</summary>
        public GrainCallNode? Owner;
    }

    /// <summary>Releases the lock when disposed.</summary>
    internal readonly struct Releaser(KeyedAsyncLock owner, Entry entry) : IDisposable
    {
        public void Dispose() => owner.Release(entry);
    }
}
