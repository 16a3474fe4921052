using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class UniqueObjectNamesTests
{
    [Fact]
    [Trait("Suite", "BVT")]
    public void Next_SameMillisecond_DiffersAndSorts()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 22, 5, 46, 42, 123, TimeSpan.Zero));
        var names = new UniqueObjectNames(clock);

        var a = names.Next();
        var b = names.Next("result", "json");
        clock.Now = clock.Now.AddSeconds(1);
        var c = names.Next("out", ".bin");

        Assert.Equal("out-20261122T054642123Z-000001", a);
        Assert.Equal("result-20261122T054642123Z-000002.json", b);
        Assert.Equal("out-20261122T054643123Z-000003.bin", c);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Next_ManyThreads_AllUnique()
    {
        var names = new UniqueObjectNames(instanceTag: "node-1");
        var all = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 10_000, _ => all.Add(names.Next()));
        Assert.Equal(10_000, all.Distinct().Count());
        Assert.All(all, n => Assert.Contains("-node-1-", n, StringComparison.Ordinal));
    }
}
