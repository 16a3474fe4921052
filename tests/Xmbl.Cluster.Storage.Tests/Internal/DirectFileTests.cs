using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Internal;

public sealed class DirectFileTests
{
    public static TheoryData<int> Lengths => [0, 1, 4095, 4096, 4097, DirectFile.ChunkSize - 1, DirectFile.ChunkSize, DirectFile.ChunkSize + 1, (3 * DirectFile.ChunkSize) + 123];

    [Theory]
    [MemberData(nameof(Lengths))]
    [Trait("Suite", "BVT")]
    public void Write_AnyLength_FileHoldsExactlyTheBytes(int length)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "shard");
        var bytes = TestData.Bytes(length, seed: length);

        using (var file = DirectFile.TryCreate(path))
        {
            if (!DirectFile.PlatformSupported)
            {
                return;
            }

            Assert.NotNull(file);
            file.Write(bytes);
            file.Complete();
        }

        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Buffer_InPieces_WritesChunksAsTheyFill()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "shard");
        var bytes = TestData.Bytes((2 * DirectFile.ChunkSize) + 7000, seed: 3);
        using (var file = DirectFile.TryCreate(path))
        {
            if (!DirectFile.PlatformSupported)
            {
                return;
            }

            Assert.NotNull(file);
            // Odd piece sizes, so chunk boundaries fall inside pieces.
            foreach (var chunk in bytes.Chunk(300_001))
            {
                var piece = chunk.AsSpan();
                while (!piece.IsEmpty)
                {
                    piece = piece[file.Buffer(piece)..];
                    if (file.ChunkFull)
                    {
                        file.WriteChunk();
                    }
                }
            }

            Assert.Equal(bytes.Length, file.Length);
            file.Complete();
        }

        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void WriteChunk_BeforeTheChunkIsFull_Throws()
    {
        using var dir = new TempDirectory();
        if (!DirectFile.PlatformSupported)
        {
            return;
        }

        using var file = DirectFile.TryCreate(Path.Combine(dir.Path, "shard"));
        Assert.NotNull(file);
        file.Buffer(new byte[10]);

        Assert.Throws<InvalidOperationException>(file.WriteChunk);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void TryCreate_ExistingFile_ThrowsAndLeavesItAlone()
    {
        if (!DirectFile.PlatformSupported)
        {
            return;
        }

        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "shard");
        File.WriteAllText(path, "kept");

        var error = Assert.Throws<IOException>(() => DirectFile.TryCreate(path)?.Dispose());

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal("kept", File.ReadAllText(path));
    }
}
