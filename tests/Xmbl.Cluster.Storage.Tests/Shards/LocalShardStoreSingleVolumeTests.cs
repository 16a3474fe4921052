using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Shards;

/// <summary>The conformance kit against a one-volume <see cref="LocalShardStore"/> whose index lives in the volume (the default layout).</summary>
public sealed class LocalShardStoreSingleVolumeTests : ShardStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _dir = new();

    protected override Task<IShardStore> CreateStore() =>
        Task.FromResult<IShardStore>(new LocalShardStore(new StorageOptions { Volumes = { new StorageVolumeOptions { Name = "only", Path = _dir.Path } } }));

    protected override Task DisposeStore(IShardStore store)
    {
        ((LocalShardStore)store).Dispose();
        return Task.CompletedTask;
    }

    protected override async Task CorruptAsync(ShardId id)
    {
        var path = Path.Combine(_dir.Path, "shards", id.Value[..2], id.Value);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length - 1;
        var last = file.ReadByte();
        file.Position = file.Length - 1;
        file.WriteByte((byte)(last ^ 0x01));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Suite", "BVT")]
    public void IndexPath_DefaultsToFirstVolume()
    {
        Assert.Equal(Path.Combine(_dir.Path, "shard-index.db"), ((LocalShardStore)Store).IndexPath);
    }
}
