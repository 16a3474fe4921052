using System.Security.Cryptography;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Shards;

/// <summary>
/// The contract every <see cref="IShardStore"/> must meet. Subclass it per implementation and supply
/// <see cref="CreateStore"/> and <see cref="CorruptAsync"/>.
/// </summary>
public abstract class ShardStoreConformanceTests : IAsyncLifetime
{
    private IShardStore _store = null!;

    protected IShardStore Store => _store;

    /// <summary>Creates an empty store.</summary>
    protected abstract Task<IShardStore> CreateStore();

    /// <summary>Flips a byte of the stored shard in place, as disk rot would.</summary>
    protected abstract Task CorruptAsync(ShardId id);

    protected virtual Task DisposeStore(IShardStore store) => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await CreateStore();

    public Task DisposeAsync() => DisposeStore(_store);

    protected static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_ThenOpenRead_ReturnsSameBytesAndHash()
    {
        var data = TestData.Bytes(300_001);
        var id = ShardId.New();

        var info = await Store.PutAsync(id, new MemoryStream(data), data.Length);

        Assert.Equal(id, info.Id);
        Assert.Equal(data.Length, info.Length);
        Assert.Equal(Sha(data), info.Sha256);
        await using var read = await Store.OpenReadAsync(id);
        Assert.Equal(data, await ReadAllAsync(read));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_EmptyShard_RoundTrips()
    {
        var id = ShardId.New();
        var info = await Store.PutAsync(id, new MemoryStream(), 0);
        Assert.Equal(0, info.Length);
        await using var read = await Store.OpenReadAsync(id);
        Assert.Empty(await ReadAllAsync(read));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_WithoutExpectedLength_StoresWhatArrives()
    {
        var data = TestData.Bytes(4096, seed: 3);
        var info = await Store.PutAsync(ShardId.New(), new MemoryStream(data));
        Assert.Equal(4096, info.Length);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_SameIdTwice_ReplacesContent()
    {
        var id = ShardId.New();
        await Store.PutAsync(id, new MemoryStream(TestData.Bytes(1000, 1)), 1000);
        var second = TestData.Bytes(500, 2);

        await Store.PutAsync(id, new MemoryStream(second), 500);

        await using var read = await Store.OpenReadAsync(id);
        Assert.Equal(second, await ReadAllAsync(read));
        Assert.Equal(1, (await Store.GetStatsAsync()).ShardCount);
        Assert.Equal(500, (await Store.GetStatsAsync()).UsedBytes);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_WrongExpectedHash_ThrowsCorruptAndStoresNothing()
    {
        var data = TestData.Bytes(2048);
        var id = ShardId.New();

        await Assert.ThrowsAsync<ShardCorruptException>(() => Store.PutAsync(id, new MemoryStream(data), data.Length, Sha([1, 2, 3])));

        Assert.Null(await Store.GetInfoAsync(id));
        Assert.Equal(0, (await Store.GetStatsAsync()).ShardCount);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_ShorterThanExpectedLength_ThrowsAndStoresNothing()
    {
        var id = ShardId.New();
        await Assert.ThrowsAsync<ShardCorruptException>(() => Store.PutAsync(id, new MemoryStream(new byte[10]), 11));
        Assert.Null(await Store.GetInfoAsync(id));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_SourceThrowsMidway_StoresNothing()
    {
        var id = ShardId.New();
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(id, new GeneratedStream(1_000_000, failAfter: 300_000), 1_000_000));
        Assert.Null(await Store.GetInfoAsync(id));
        Assert.Equal(0, (await Store.GetStatsAsync()).ShardCount);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task OpenRead_MissingShard_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<ShardNotFoundException>(() => Store.OpenReadAsync(ShardId.New()));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task OpenRead_CorruptedShard_ThrowsCorruptAtEnd()
    {
        var data = TestData.Bytes(100_000);
        var id = ShardId.New();
        await Store.PutAsync(id, new MemoryStream(data), data.Length, Sha(data));

        await CorruptAsync(id);

        await using var read = await Store.OpenReadAsync(id);
        var e = await Assert.ThrowsAsync<ShardCorruptException>(() => ReadAllAsync(read));
        Assert.Equal(id, e.ShardId);
        Assert.Equal(Sha(data), e.ExpectedSha256);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Delete_RemovesShardOnce()
    {
        var id = ShardId.New();
        await Store.PutAsync(id, new MemoryStream(new byte[100]), 100);

        Assert.True(await Store.DeleteAsync(id));
        Assert.False(await Store.DeleteAsync(id));
        Assert.Null(await Store.GetInfoAsync(id));
        Assert.Equal(0, (await Store.GetStatsAsync()).UsedBytes);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task List_ReturnsEveryShardOnce()
    {
        var ids = Enumerable.Range(0, 25).Select(_ => ShardId.New()).ToHashSet();
        foreach (var id in ids)
        {
            await Store.PutAsync(id, new MemoryStream(new byte[10]), 10);
        }

        var listed = new List<ShardId>();
        await foreach (var info in Store.ListAsync())
        {
            listed.Add(info.Id);
        }

        Assert.Equal(ids.Count, listed.Count);
        Assert.True(ids.SetEquals(listed));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Scrub_FindsCorruptShardOnly()
    {
        var good = ShardId.New();
        var bad = ShardId.New();
        await Store.PutAsync(good, new MemoryStream(TestData.Bytes(5000, 1)), 5000);
        await Store.PutAsync(bad, new MemoryStream(TestData.Bytes(5000, 2)), 5000);
        await CorruptAsync(bad);

        var report = await Store.ScrubAllAsync();

        Assert.Equal(2, report.Checked);
        var unhealthy = Assert.Single(report.Unhealthy);
        Assert.Equal(bad, unhealthy.Id);
        Assert.Equal(ShardHealthStatus.Corrupt, unhealthy.Status);
        Assert.Equal(ShardHealthStatus.Healthy, (await Store.ScrubAsync(good)).Status);
        Assert.Equal(ShardHealthStatus.Corrupt, (await Store.ScrubAsync(bad)).Status);
        Assert.Equal(ShardHealthStatus.Missing, (await Store.ScrubAsync(ShardId.New())).Status);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Stats_CountUsedBytes()
    {
        await Store.PutAsync(ShardId.New(), new MemoryStream(new byte[1000]), 1000);
        await Store.PutAsync(ShardId.New(), new MemoryStream(new byte[24]), 24);

        var stats = await Store.GetStatsAsync();

        Assert.Equal(2, stats.ShardCount);
        Assert.Equal(1024, stats.UsedBytes);
        Assert.True(stats.FreeBytes > 0);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Put_ManyConcurrently_AllReadable()
    {
        var shards = Enumerable.Range(0, 40).Select(i => (Id: ShardId.New(), Data: TestData.Bytes(20_000 + i, i))).ToArray();

        await Task.WhenAll(shards.Select(s => Task.Run(() => Store.PutAsync(s.Id, new MemoryStream(s.Data), s.Data.Length, Sha(s.Data)))));

        foreach (var (id, data) in shards)
        {
            await using var read = await Store.OpenReadAsync(id);
            Assert.Equal(data, await ReadAllAsync(read));
        }

        Assert.Equal(40, (await Store.GetStatsAsync()).ShardCount);
    }
}
