using System.Collections.Concurrent;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>
/// A small set of dedicated threads for blocking disk work (writing a shard held in memory, fsync, index commits).
/// </summary>
/// <remarks>
/// An fsync blocks its thread for milliseconds. On the thread pool, a dozen concurrent shard puts would hold every
/// worker (two on a two-core machine) and the pool adds threads only slowly, so puts queued behind each other and
/// the disk sat idle between syncs. Here they wait on threads of their own, up to <see cref="ThreadCount"/> at a time,
/// which is about the queue depth at which a virtual disk's synced-write throughput stops growing.
/// </remarks>
internal static class DiskThreads
{
    /// <summary>How many blocking disk operations run at once, process-wide.</summary>
    public const int ThreadCount = 16;

    private static readonly BlockingCollection<WorkItem> Queue = StartThreads();

    /// <summary>Runs <paramref name="work"/> on a disk thread; the task completes (on the thread pool) when it has run.</summary>
    public static Task Run(Action work)
    {
        var item = new WorkItem(work);
        Queue.Add(item);
        return item.Done.Task;
    }

    private static BlockingCollection<WorkItem> StartThreads()
    {
        var queue = new BlockingCollection<WorkItem>();
        for (var i = 0; i < ThreadCount; i++)
        {
            new Thread(() =>
            {
                foreach (var item in queue.GetConsumingEnumerable())
                {
                    item.Execute();
                }
            })
            {
                IsBackground = true,
                Name = $"xmbl-disk-{i}",
            }.Start();
        }

        return queue;
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
