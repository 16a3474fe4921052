using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Internal;

public sealed class DiskReadStreamTests
{
    public static TheoryData<int, bool> Cases()
    {
        var cases = new TheoryData<int, bool>();
        foreach (var length in new[] { 0, 1, 4095, 4096, 4097, DirectFile.ChunkSize, DirectFile.ChunkSize + 1, (2 * DirectFile.ChunkSize) + 12345 })
        {
            cases.Add(length, true);
            cases.Add(length, false);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    [Trait("Suite", "BVT")]
    public async Task ReadAsync_DirectOrCached_OddPieces_ReturnsExactlyTheFile(int length, bool direct)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "shard");
        var bytes = TestData.Bytes(length, seed: length);
        await File.WriteAllBytesAsync(path, bytes);
        var handle = direct ? DirectFile.TryOpenRead(path) : File.OpenHandle(path);
        if (handle is null)
        {
            Assert.False(DirectFile.PlatformSupported, "direct I/O exists on this platform but the temp directory refused it");
            return;
        }

        await using var stream = new DiskReadStream(handle, direct);
        using var back = new MemoryStream();
        var buffer = new byte[100_003];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            back.Write(buffer, 0, n);
        }

        Assert.Equal(bytes, back.ToArray());
        Assert.Equal(length, stream.Position);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [Trait("Suite", "BVT")]
    public void Read_Synchronous_ReturnsExactlyTheFile(bool direct)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "shard");
        var bytes = TestData.Bytes(DirectFile.ChunkSize + 777, seed: 4);
        File.WriteAllBytes(path, bytes);
        var handle = direct ? DirectFile.TryOpenRead(path) : File.OpenHandle(path);
        if (handle is null)
        {
            Assert.False(DirectFile.PlatformSupported, "direct I/O exists on this platform but the temp directory refused it");
            return;
        }

        using var stream = new DiskReadStream(handle, direct);
        using var back = new MemoryStream();
        stream.CopyTo(back, 65_537);

        Assert.Equal(bytes, back.ToArray());
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void TryOpenRead_MissingFile_ThrowsFileNotFound()
    {
        if (!DirectFile.PlatformSupported)
        {
            return;
        }

        using var dir = new TempDirectory();

        Assert.Throws<FileNotFoundException>(() => DirectFile.TryOpenRead(Path.Combine(dir.Path, "missing")));
    }
}
