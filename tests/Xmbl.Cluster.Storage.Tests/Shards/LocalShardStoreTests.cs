using System.Security.Cryptography;
using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Shards;

/// <summary>The conformance kit against <see cref="LocalShardStore"/>, plus what is particular to files and volumes.</summary>
public sealed class LocalShardStoreTests : ShardStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _dir = new();

    private StorageVolumeOptions[] Volumes(int count, long capacity = 0) =>
        Enumerable.Range(0, count).Select(i => new StorageVolumeOptions { Name = $"v{i}", Path = _dir.Sub($"v{i}"), CapacityBytes = capacity }).ToArray();

    protected override Task<IShardStore> CreateStore() =>
        Task.FromResult<IShardStore>(new LocalShardStore(Volumes(2), _dir.Sub("index.db")));

    protected override Task DisposeStore(IShardStore store)
    {
        ((LocalShardStore)store).Dispose();
        return Task.CompletedTask;
    }

    protected override async Task CorruptAsync(ShardId id)
    {
        var info = (await Store.GetInfoAsync(id))!;
        var path = ShardPath(info);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);
    }

    private string ShardPath(ShardInfo info) => Path.Combine(_dir.Sub(info.Volume), "shards", info.Id.Value[..2], info.Id.Value);

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_TwoVolumes_GoesToLeastUsed()
    {
        using var store = new LocalShardStore(Volumes(2), _dir.Sub("other.db"));
        var first = await store.PutAsync(ShardId.New(), new MemoryStream(new byte[1000]), 1000);
        var second = await store.PutAsync(ShardId.New(), new MemoryStream(new byte[10]), 10);
        var third = await store.PutAsync(ShardId.New(), new MemoryStream(new byte[10]), 10);

        Assert.NotEqual(first.Volume, second.Volume);
        Assert.Equal(second.Volume, third.Volume);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_VolumeFull_UsesOtherVolumeThenThrowsFull()
    {
        var volumes = Volumes(2, capacity: 1000);
        using var store = new LocalShardStore(volumes, _dir.Sub("full.db"));
        var a = await store.PutAsync(ShardId.New(), new MemoryStream(new byte[900]), 900);
        var b = await store.PutAsync(ShardId.New(), new MemoryStream(new byte[900]), 900);
        Assert.NotEqual(a.Volume, b.Volume);

        await Assert.ThrowsAsync<ShardStoreFullException>(() => store.PutAsync(ShardId.New(), new MemoryStream(new byte[200]), 200));

        var stats = await store.GetStatsAsync();
        Assert.All(stats.Volumes, v => Assert.Equal(100, v.FreeBytes));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Stats_ReportDirectIoPerVolume_OffWhereConfiguredOff()
    {
        var volumes = Volumes(2);
        volumes[1].DirectIo = false;
        using var store = new LocalShardStore(volumes, _dir.Sub("direct.db"));

        var stats = await store.GetStatsAsync();

        Assert.Equal(DirectFile.PlatformSupported, stats.Volumes[0].DirectIo);
        Assert.False(stats.Volumes[1].DirectIo);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Reopen_KeepsIndexAndUsage()
    {
        var volumes = Volumes(1);
        var id = ShardId.New();
        var data = TestData.Bytes(777);
        using (var store = new LocalShardStore(volumes, _dir.Sub("reopen.db")))
        {
            await store.PutAsync(id, new MemoryStream(data), data.Length);
        }

        using var reopened = new LocalShardStore(volumes, _dir.Sub("reopen.db"));
        Assert.Equal(777, (await reopened.GetStatsAsync()).UsedBytes);
        await using var read = await reopened.OpenReadAsync(id);
        Assert.Equal(data, await ReadAllAsync(read));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Open_LeftoverTempFiles_AreRemoved()
    {
        var volumes = Volumes(1);
        using (new LocalShardStore(volumes, _dir.Sub("tmp.db")))
        {
        }

        var leftover = Path.Combine(volumes[0].Path, "tmp", "abc.123.tmp");
        await File.WriteAllBytesAsync(leftover, [1, 2, 3]);

        using var store = new LocalShardStore(volumes, _dir.Sub("tmp.db"));

        Assert.False(File.Exists(leftover));
        Assert.Equal(0, (await store.GetStatsAsync()).ShardCount);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_Success_LeavesNoTempFiles()
    {
        var info = await Store.PutAsync(ShardId.New(), new MemoryStream(new byte[5000]), 5000);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Sub(info.Volume), "tmp")));
        Assert.True(File.Exists(ShardPath(info)));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Scrub_DeletedFileAndUnindexedFile_ReportedMissingAndOrphan()
    {
        var info = await Store.PutAsync(ShardId.New(), new MemoryStream(new byte[100]), 100);
        File.Delete(ShardPath(info));
        var orphanDir = Path.Combine(_dir.Sub("v0"), "shards", "zz");
        Directory.CreateDirectory(orphanDir);
        await File.WriteAllBytesAsync(Path.Combine(orphanDir, "zz-orphan"), [1]);

        var report = await Store.ScrubAllAsync();

        var missing = Assert.Single(report.Unhealthy);
        Assert.Equal(ShardHealthStatus.Missing, missing.Status);
        Assert.Single(report.OrphanFiles);
        await Assert.ThrowsAsync<ShardNotFoundException>(() => Store.OpenReadAsync(info.Id));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task OpenRead_TruncatedFile_ThrowsCorrupt()
    {
        var info = await Store.PutAsync(ShardId.New(), new MemoryStream(TestData.Bytes(1000)), 1000);
        await using (var f = new FileStream(ShardPath(info), FileMode.Open))
        {
            f.SetLength(999);
        }

        await using var read = await Store.OpenReadAsync(info.Id);
        await Assert.ThrowsAsync<ShardCorruptException>(() => ReadAllAsync(read));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Constructor_DuplicateVolumeNames_Throws()
    {
        var v = new StorageVolumeOptions { Name = "same", Path = _dir.Sub("a") };
        var w = new StorageVolumeOptions { Name = "same", Path = _dir.Sub("b") };
        Assert.Throws<ArgumentException>(() => new LocalShardStore([v, w], _dir.Sub("dup.db")));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Put_ManyConcurrent_AllIndexedWithTheirHashesAndKeptAcrossReopen()
    {
        // Concurrent puts share index commits (group commit); every one must still be indexed, and durably so.
        var volumes = Volumes(3);
        var indexPath = _dir.Sub("group.db");
        var shards = Enumerable.Range(0, 64).Select(i => (Id: ShardId.New(), Bytes: TestData.Bytes(1000 + (i * 37), seed: i))).ToArray();
        using (var store = new LocalShardStore(volumes, indexPath))
        {
            var infos = await Task.WhenAll(shards.Select(s => Task.Run(() => store.PutAsync(s.Id, new MemoryStream(s.Bytes), s.Bytes.Length))));
            Assert.Equal(shards.Select(s => Convert.ToHexStringLower(SHA256.HashData(s.Bytes))), infos.Select(i => i.Sha256));
        }

        using var reopened = new LocalShardStore(volumes, indexPath);
        Assert.Equal(shards.Length, (await reopened.GetStatsAsync()).ShardCount);
        foreach (var (id, bytes) in shards)
        {
            await using var read = await reopened.OpenReadAsync(id);
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }

        var scrub = await reopened.ScrubAllAsync();
        Assert.Equal(shards.Length, scrub.Checked);
        Assert.Empty(scrub.Unhealthy);
        Assert.Empty(scrub.OrphanFiles);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_InProcessBytesWithComputedHash_IndexesThatHash()
    {
        var bytes = TestData.Bytes(3000, seed: 5);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var info = await Store.PutAsync(ShardId.New(), new ReadOnlyMemoryStream(bytes, sha), bytes.Length, sha);

        Assert.Equal(sha, info.Sha256);
        Assert.Equal(ShardHealthStatus.Healthy, (await Store.ScrubAsync(info.Id)).Status);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_InProcessBytesWithoutComputedHash_AreStillVerified()
    {
        // A repaired shard comes from memory too, but its hash is the manifest's: the store must check it.
        var bytes = TestData.Bytes(3000, seed: 6);
        var id = ShardId.New();

        await Assert.ThrowsAsync<ShardCorruptException>(() => Store.PutAsync(id, new ReadOnlyMemoryStream(bytes), bytes.Length, new string('0', 64)));

        Assert.Null(await Store.GetInfoAsync(id));
    }

    public static TheoryData<bool, bool, int> WriteModes => new()
    {
        { true, true, 1 }, { true, true, 5000 }, { true, true, (1024 * 1024) + 3 },
        { true, false, 1 }, { true, false, 5000 }, { true, false, (3 * 1024 * 1024) + 3 },
        { false, true, 5000 }, { false, false, (1024 * 1024) + 3 },
    };

    [Theory]
    [MemberData(nameof(WriteModes))]
    [Trait("Suite", "BVT")]
    public async Task Put_DirectOrCachedWrites_FromMemoryOrStream_ReadBackIdentical(bool directIo, bool fromMemory, int length)
    {
        var volume = new StorageVolumeOptions { Name = "v", Path = _dir.Sub($"modes-{directIo}-{fromMemory}-{length}"), DirectIo = directIo };
        using var store = new LocalShardStore([volume], Path.Combine(volume.Path, "index.db"));
        var bytes = TestData.Bytes(length, seed: length);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Stream content = fromMemory ? new ReadOnlyMemoryStream(bytes, sha) : new MemoryStream(bytes);

        var info = await store.PutAsync(ShardId.New(), content, length, sha);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(volume.Path, "shards", info.Id.Value[..2], info.Id.Value)));
        await using var read = await store.OpenReadAsync(info.Id);
        using var back = new MemoryStream();
        await read.CopyToAsync(back);
        Assert.Equal(bytes, back.ToArray());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(volume.Path, "tmp")));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Put_StreamLongerThanAnnounced_FailsAndLeavesNothing()
    {
        var volume = new StorageVolumeOptions { Name = "v", Path = _dir.Sub("too-long") };
        using var store = new LocalShardStore([volume], Path.Combine(volume.Path, "index.db"));
        var id = ShardId.New();

        await Assert.ThrowsAsync<ShardCorruptException>(() => store.PutAsync(id, new MemoryStream(TestData.Bytes(3 * 1024 * 1024, seed: 1)), 2 * 1024 * 1024));

        Assert.Null(await store.GetInfoAsync(id));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(volume.Path, "tmp")));
    }
}
