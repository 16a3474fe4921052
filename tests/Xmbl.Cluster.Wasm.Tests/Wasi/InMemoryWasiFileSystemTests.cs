using System.Text;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Tests.Wasi;

[Trait("Suite", "BVT")]
public sealed class InMemoryWasiFileSystemTests
{
    [Fact]
    public void OpenFile_CreateWriteRead_RoundTrips()
    {
        var fs = new InMemoryWasiFileSystem();

        Assert.Equal(WasiErrno.Success, fs.OpenFile("f", WasiOpenFlags.Create | WasiOpenFlags.Read | WasiOpenFlags.Write, out var file));
        using (file)
        {
            Assert.Equal(WasiErrno.Success, file!.Write("hello"u8, 0));
            Assert.Equal(WasiErrno.Success, file.Write("!!"u8, 10));
            var buffer = new byte[32];
            Assert.Equal(WasiErrno.Success, file.Read(buffer, 0, out var n));
            Assert.Equal(12, n);
            Assert.Equal("hello\0\0\0\0\0!!", Encoding.ASCII.GetString(buffer, 0, n));
            Assert.Equal(WasiErrno.Success, file.Read(buffer, 50, out n));
            Assert.Equal(0, n);
        }
    }

    [Fact]
    public void OpenFile_Truncate_EmptiesAndShrinkThenGrowReadsZeros()
    {
        var fs = new InMemoryWasiFileSystem().AddFile("f", "abcdef"u8);
        fs.OpenFile("f", WasiOpenFlags.Read | WasiOpenFlags.Write, out var file);
        using (file)
        {
            Assert.Equal(WasiErrno.Success, file!.SetLength(2));
            Assert.Equal(WasiErrno.Success, file.SetLength(4));
            Assert.True(fs.TryReadFile("f", out var content));
            Assert.Equal("ab\0\0"u8.ToArray(), content);
        }

        Assert.Equal(WasiErrno.Success, fs.OpenFile("f", WasiOpenFlags.Write | WasiOpenFlags.Truncate, out var truncated));
        truncated!.Dispose();
        Assert.True(fs.TryReadFile("f", out var empty));
        Assert.Empty(empty);
        Assert.Equal(0, fs.UsedBytes);
    }

    [Fact]
    public void OpenFile_ReadOnlyHandle_RefusesWrites()
    {
        var fs = new InMemoryWasiFileSystem().AddFile("f", "x"u8);
        fs.OpenFile("f", WasiOpenFlags.Read, out var file);

        Assert.Equal(WasiErrno.BadF, file!.Write("y"u8, 0));
        Assert.Equal(WasiErrno.BadF, file.SetLength(0));
    }

    [Fact]
    public void OpenFile_ErrorCases_ReturnPosixCodes()
    {
        var fs = new InMemoryWasiFileSystem().AddFile("d/f", "x"u8);

        Assert.Equal(WasiErrno.NoEnt, fs.OpenFile("missing", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.NoEnt, fs.OpenFile("nodir/f", WasiOpenFlags.Create | WasiOpenFlags.Write, out _));
        Assert.Equal(WasiErrno.NotDir, fs.OpenFile("d/f/g", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.IsDir, fs.OpenFile("d", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.Exist, fs.OpenFile("d/f", WasiOpenFlags.Create | WasiOpenFlags.Exclusive | WasiOpenFlags.Write, out _));
    }

    [Fact]
    public void Capacity_WritesBeyondIt_FailWithNoSpc()
    {
        var fs = new InMemoryWasiFileSystem(capacityBytes: 10);
        fs.OpenFile("f", WasiOpenFlags.Create | WasiOpenFlags.Write, out var file);

        Assert.Equal(WasiErrno.Success, file!.Write(new byte[10], 0));
        Assert.Equal(WasiErrno.NoSpc, file.Write(new byte[1], 10));
        Assert.Equal(10, fs.UsedBytes);
        Assert.Equal(WasiErrno.Success, fs.DeleteFile("f"));
        Assert.Equal(0, fs.UsedBytes);
    }

    [Fact]
    public void Directories_CreateListRemove_BehaveLikePosix()
    {
        var fs = new InMemoryWasiFileSystem();

        Assert.Equal(WasiErrno.Success, fs.CreateDirectory("d"));
        Assert.Equal(WasiErrno.Exist, fs.CreateDirectory("d"));
        Assert.Equal(WasiErrno.NoEnt, fs.CreateDirectory("x/y"));
        fs.AddFile("d/z", "1"u8).AddFile("d/a", "2"u8);
        Assert.Equal(WasiErrno.Success, fs.ReadDirectory("d", out var entries));
        Assert.Equal(["a", "z"], entries.Select(e => e.Name));
        Assert.Equal(WasiErrno.NotEmpty, fs.RemoveDirectory("d"));
        Assert.Equal(WasiErrno.NotDir, fs.RemoveDirectory("d/a"));
        Assert.Equal(WasiErrno.IsDir, fs.DeleteFile("d"));
        Assert.Equal(WasiErrno.Success, fs.DeleteFile("d/a"));
        Assert.Equal(WasiErrno.Success, fs.DeleteFile("d/z"));
        Assert.Equal(WasiErrno.Success, fs.RemoveDirectory("d"));
        Assert.Equal(WasiErrno.NoEnt, fs.GetStat("d", out _));
    }

    [Fact]
    public void Rename_ReplacesFilesAndEmptyDirectoriesOnly()
    {
        var fs = new InMemoryWasiFileSystem()
            .AddFile("a", "A"u8).AddFile("b", "B"u8).AddDirectory("empty").AddFile("full/x", "X"u8);

        Assert.Equal(WasiErrno.Success, fs.Rename("a", "b"));
        Assert.True(fs.TryReadFile("b", out var b));
        Assert.Equal("A"u8.ToArray(), b);
        Assert.Equal(WasiErrno.IsDir, fs.Rename("b", "empty"));
        Assert.Equal(WasiErrno.NotEmpty, fs.Rename("empty", "full"));
        Assert.Equal(WasiErrno.Inval, fs.Rename("full", "full/inner"));
        Assert.Equal(WasiErrno.Success, fs.Rename("full", "empty"));
        Assert.True(fs.TryReadFile("empty/x", out _));
        Assert.Equal(1 + 1, fs.UsedBytes);
    }

    [Fact]
    public void UnlinkedOpenFile_StaysReadable()
    {
        var fs = new InMemoryWasiFileSystem().AddFile("f", "data"u8);
        fs.OpenFile("f", WasiOpenFlags.Read, out var file);

        Assert.Equal(WasiErrno.Success, fs.DeleteFile("f"));

        var buffer = new byte[4];
        Assert.Equal(WasiErrno.Success, file!.Read(buffer, 0, out var n));
        Assert.Equal("data", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public void Inodes_SameOperations_SameNumbers()
    {
        static ulong InodeOf(string path)
        {
            var fs = new InMemoryWasiFileSystem().AddFile("x/y", "1"u8).AddFile("z", "2"u8);
            fs.GetStat(path, out var stat);
            return stat.Inode;
        }

        Assert.Equal(InodeOf("z"), InodeOf("z"));
        Assert.NotEqual(InodeOf("z"), InodeOf("x/y"));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    public void AddFile_EscapingPath_Throws(string path)
    {
        Assert.Throws<ArgumentException>(() => new InMemoryWasiFileSystem().AddFile(path, "x"u8));
    }
}
