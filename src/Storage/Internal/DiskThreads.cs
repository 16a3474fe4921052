namespace Xmbl.Cluster.Storage.Internal;

/// <summary>
/// A small set of dedicated threads for blocking disk work (writing a shard held in memory, fsync, index commits).
/// </summary>
/// <remarks>
/// <para>An fsync blocks its thread for milliseconds. On the thread pool, a dozen concurrent shard puts would hold every
/// worker (two on a two-core machine) and the pool adds threads only slowly, so puts queued behind each other and
/// the disk sat idle between syncs. Here they wait on threads of their own, up to <see cref="ThreadCount"/> at a time,
/// which is about the queue depth at which a virtual disk's synced-write throughput stops growing.</para>
/// <para>Idle threads block on a monitor without spinning. A <c>BlockingCollection</c> spun each of its sixteen waiters
/// through <c>sched_yield</c> before blocking, and on two cores that was 9% of a 1 GiB put's CPU.</para>
/// </remarks>
internal static class DiskThreads
{
    /// <summary>How many blocking disk operations run at once, process-wide.</summary>
    public const int ThreadCount = 16;

    private static readonly Queue<WorkItem> Pending = StartThreads();
    private static int _idle;

    /// <summary>Runs <paramref name="work"/> on a disk thread; the task completes (on the thread pool) when it has run.</summary>
    public static Task Run(Action work)
    {
        var item = new WorkItem(work);
        lock (Pending)
        {
            Pending.Enqueue(item);
            if (_idle > 0)
            {
                Monitor.Pulse(Pending);
            }
        }

        return item.Done.Task;
    }

    /// <summary>Runs <paramref name="work"/> on a disk thread; the task completes (on the thread pool) with its result.</summary>
    public static async Task<T> Run<T>(Func<T> work)
    {
        var result = default(T)!;
        await Run(() => { result = work(); });
        return result;
    }

    private static Queue<WorkItem> StartThreads()
    {
        var queue = new Queue<WorkItem>();
        for (var i = 0; i < ThreadCount; i++)
        {
            new Thread(() => Work(queue))
            {
                IsBackground = true,
                Name = $"xmbl-disk-{i}",
            }.Start();
        }

        return queue;
    }

    private static void Work(Queue<WorkItem> queue)
    {
        while (true)
        {
            WorkItem item;
            lock (queue)
            {
                while (queue.Count == 0)
                {
                    _idle++;
                    Monitor.Wait(queue);
                    _idle--;
                }

                item = queue.Dequeue();
            }

            item.Execute();
        }
    }

    private sealed class WorkItem(Action work)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Execute()
        {
            try
            {
                work();
                Done.SetResult();
            }
            catch (Exception e)
            {
                Done.SetException(e);
            }
        }
    }
}
