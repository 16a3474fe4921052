using System.Text;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests.Conformance;

/// <summary>The grain state store contract: read, write, version conflicts, concurrency, listing.</summary>
public abstract class GrainStateStoreConformance : BackendTestBase
{
    private static readonly GrainId Id = new("ITestGrain", "k1");

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Read_WhenNothingWritten_ReturnsNull()
    {
        var store = (await OpenBackendAsync()).States;
        Assert.Null(await store.ReadAsync(Id, default));
    }

    [Fact]
    public async Task Write_FirstVersion_IsReadBackWithVersionOne()
    {
        var store = (await OpenBackendAsync()).States;
        var version = await store.WriteAsync(Id, Bytes("{\"a\":1}"), 0, default);
        var read = await store.ReadAsync(Id, default);
        Assert.Equal(1, version);
        Assert.NotNull(read);
        Assert.Equal(1, read.Version);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(read.State));
        Assert.Equal(Time.GetUtcNow(), read.UpdatedAt);
    }

    [Fact]
    public async Task Write_WithCurrentVersion_IncrementsVersion()
    {
        var store = (await OpenBackendAsync()).States;
        await store.WriteAsync(Id, Bytes("1"), 0, default);
        var v2 = await store.WriteAsync(Id, Bytes("2"), 1, default);
        var v3 = await store.WriteAsync(Id, Bytes("3"), 2, default);
        Assert.Equal((2, 3), (v2, v3));
        Assert.Equal("3", Encoding.UTF8.GetString((await store.ReadAsync(Id, default))!.State));
    }

    [Fact]
    public async Task Write_WithStaleVersion_ThrowsInconsistentStateAndKeepsStoredState()
    {
        var store = (await OpenBackendAsync()).States;
        await store.WriteAsync(Id, Bytes("1"), 0, default);
        await store.WriteAsync(Id, Bytes("2"), 1, default);
        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => store.WriteAsync(Id, Bytes("stale"), 1, default));
        Assert.Equal(Id.Type, ex.GrainType);
        Assert.Equal(Id.Key, ex.GrainKey);
        var read = await store.ReadAsync(Id, default);
        Assert.Equal(2, read!.Version);
        Assert.Equal("2", Encoding.UTF8.GetString(read.State));
    }

    [Fact]
    public async Task Write_AsNewWhenRowExists_ThrowsInconsistentState()
    {
        var store = (await OpenBackendAsync()).States;
        await store.WriteAsync(Id, Bytes("1"), 0, default);
        await Assert.ThrowsAsync<InconsistentStateException>(() => store.WriteAsync(Id, Bytes("again"), 0, default));
    }

    [Fact]
    public async Task Write_ConcurrentWritersOfSameVersion_ExactlyOneWins()
    {
        var store = (await OpenBackendAsync()).States;
        await store.WriteAsync(Id, Bytes("0"), 0, default);
        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await store.WriteAsync(Id, Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), 1, default);
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        })).ToArray();
        var results = await Task.WhenAll(attempts);
        Assert.Equal(1, results.Count(r => r));
        Assert.Equal(2, (await store.ReadAsync(Id, default))!.Version);
    }

    [Fact]
    public async Task Transaction_CommitWithChange_WritesNextVersion()
    {
        var store = (await OpenBackendAsync()).States;
        await using (var tx = await store.BeginAsync(Id, default))
        {
            Assert.Equal(0, tx.Version);
            Assert.Null(tx.State);
            await tx.CommitAsync(Bytes("first"), default);
        }

        await using (var tx = await store.BeginAsync(Id, default))
        {
            Assert.Equal(1, tx.Version);
            Assert.Equal("first", Encoding.UTF8.GetString(tx.State!));
            await tx.CommitAsync(Bytes("second"), default);
        }

        Assert.Equal(2, (await store.ReadAsync(Id, default))!.Version);
    }

    [Fact]
    public async Task Transaction_CommitWithoutChange_LeavesNoRowAndNoNewVersion()
    {
        var store = (await OpenBackendAsync()).States;
        await using (var tx = await store.BeginAsync(Id, default))
        {
            await tx.CommitAsync(null, default);
        }

        Assert.Null(await store.ReadAsync(Id, default));
        Assert.Empty(await store.ListAsync(Id.Type, null, null, 10, default));
        await store.WriteAsync(Id, Bytes("x"), 0, default);
        await using (var tx = await store.BeginAsync(Id, default))
        {
            await tx.CommitAsync(null, default);
        }

        Assert.Equal(1, (await store.ReadAsync(Id, default))!.Version);
    }

    [Fact]
    public async Task Transaction_DisposedWithoutCommit_WritesNothing()
    {
        var store = (await OpenBackendAsync()).States;
        await store.WriteAsync(Id, Bytes("kept"), 0, default);
        await using (var tx = await store.BeginAsync(Id, default))
        {
            Assert.Equal(1, tx.Version);
        }

        var read = await store.ReadAsync(Id, default);
        Assert.Equal((1L, "kept"), (read!.Version, Encoding.UTF8.GetString(read.State)));
    }

    [Fact]
    public async Task Transaction_WhenAnotherWriterChangedTheRow_CommitThrowsInconsistentState()
    {
        var backend = await OpenBackendAsync();
        var store = backend.States;
        await store.WriteAsync(Id, Bytes("1"), 0, default);
        if (backend.Name == "Postgres")
        {
            // The row lock makes an outside write wait for the transaction; the version check can only be hit by a
            // writer that bypasses the lock, which PostgreSQL does not allow. Check the lock instead.
            await using var tx = await store.BeginAsync(Id, default);
            var outside = store.WriteAsync(Id, Bytes("outside"), 1, default);
            await PostgresProbe.WaitForLockWaitersAsync(((PostgresTarget)LastTarget).ConnectionString, 1);
            Assert.False(outside.IsCompleted, "a plain write must wait for the grain's row lock");
            await tx.CommitAsync(Bytes("inside"), default);
            await Assert.ThrowsAsync<InconsistentStateException>(() => outside);
        }
        else
        {
            await using var tx = await store.BeginAsync(Id, default);
            await store.WriteAsync(Id, Bytes("outside"), 1, default);
            await Assert.ThrowsAsync<InconsistentStateException>(async () => await tx.CommitAsync(Bytes("inside"), default));
        }

        Assert.Equal(2, (await store.ReadAsync(Id, default))!.Version);
    }

    [Fact]
    public async Task List_FiltersByTypeAndPrefix_AndPagesInKeyOrder()
    {
        var store = (await OpenBackendAsync()).States;
        foreach (var key in new[] { "node-3", "node-1", "job-1", "node-2", "node-10" })
        {
            await store.WriteAsync(new GrainId("ITestGrain", key), Bytes($"\"{key}\""), 0, default);
        }

        await store.WriteAsync(new GrainId("IOtherGrain", "node-1"), Bytes("0"), 0, default);

        var page1 = await store.ListAsync("ITestGrain", "node-", null, 2, default);
        var page2 = await store.ListAsync("ITestGrain", "node-", page1[^1].Key, 2, default);
        var page3 = await store.ListAsync("ITestGrain", "node-", page2[^1].Key, 2, default);
        Assert.Equal(["node-1", "node-10"], page1.Select(r => r.Key));
        Assert.Equal(["node-2", "node-3"], page2.Select(r => r.Key));
        Assert.Empty(page3);
        Assert.Equal(5, (await store.ListAsync("ITestGrain", null, null, 100, default)).Count);
    }

    [Fact]
    public async Task List_PrefixRange_ExcludesNeighboursAndNonAsciiKeys_AndAnAfterKeyBelowThePrefixStartsAtThePrefix()
    {
        var store = (await OpenBackendAsync()).States;
        // "nodd" and "nodf" sort right before and after "node"; "node-é" and "node-😀" are multi-byte in UTF-8.
        foreach (var key in new[] { "nodd", "node", "node-a", "node-\u00e9", "node-\U0001F600", "nodf", "zzz" })
        {
            await store.WriteAsync(new GrainId("ITestGrain", key), Bytes("0"), 0, default);
        }

        Assert.Equal(["node", "node-a", "node-\u00e9", "node-\U0001F600"], (await store.ListAsync("ITestGrain", "node", null, 100, default)).Select(r => r.Key));
        Assert.Equal(["node", "node-a"], (await store.ListAsync("ITestGrain", "node", "a", 2, default)).Select(r => r.Key));
        Assert.Equal(["node-\U0001F600"], (await store.ListAsync("ITestGrain", "node", "node-\u00e9", 100, default)).Select(r => r.Key));
        Assert.Equal(["nodf", "zzz"], (await store.ListAsync("ITestGrain", null, "node-\U0001F600", 100, default)).Select(r => r.Key));
    }

    [Fact]
    public async Task GrainCalls_ConcurrentIncrementsOnOneKey_NoneLost()
    {
        var backend = await OpenBackendAsync();
        await using var silo = await TestSilo.StartAsync(LastTarget, Time, o => o.ClientOnly = true);
        var counter = silo.Factory.GetGrain<ICounterGrain>("hot");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                await counter.IncrementAsync();
            }
        })));
        Assert.Equal(200, await counter.GetAsync());
    }

    [Fact]
    public async Task GrainCalls_ConcurrentIncrementsOverManyKeys_NoneLost()
    {
        var backend = await OpenBackendAsync();
        await using var silo = await TestSilo.StartAsync(LastTarget, Time, o => o.ClientOnly = true);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await silo.Factory.GetGrain<ICounterGrain>($"k{(i + worker) % 10}").IncrementAsync();
            }
        })));
        var total = 0;
        for (var k = 0; k < 10; k++)
        {
            total += await silo.Factory.GetGrain<ICounterGrain>($"k{k}").GetAsync();
        }

        Assert.Equal(320, total);
    }
}

[Trait("Suite", "Functional")]
public sealed class SqliteGrainStateStoreTests : GrainStateStoreConformance
{
    private readonly SqliteTargets _targets = new();

    protected override Task<BackendTarget> NewTargetAsync() => Task.FromResult<BackendTarget>(_targets.New());

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _targets.Dispose();
    }
}

[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class PostgresGrainStateStoreTests(PostgresFixture postgres) : GrainStateStoreConformance
{
    protected override async Task<BackendTarget> NewTargetAsync() => new PostgresTarget(await postgres.CreateDatabaseAsync());
}
