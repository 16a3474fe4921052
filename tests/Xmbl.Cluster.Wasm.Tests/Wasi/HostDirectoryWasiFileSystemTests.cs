using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Tests.Wasi;

[Trait("Suite", "Functional")]
public sealed class HostDirectoryWasiFileSystemTests : IDisposable
{
    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("xmbl-outside-");
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("xmbl-root-");

    public HostDirectoryWasiFileSystemTests()
    {
        File.WriteAllText(Path.Combine(_outside.FullName, "secret.txt"), "secret");
        File.WriteAllText(Path.Combine(_root.FullName, "inside.txt"), "inside");
        Directory.CreateDirectory(Path.Combine(_root.FullName, "sub"));
    }

    public void Dispose()
    {
        _root.Delete(recursive: true);
        _outside.Delete(recursive: true);
    }

    [Fact]
    public void OpenFile_ThroughSymlinkToOutside_IsNotCapable()
    {
        File.CreateSymbolicLink(Path.Combine(_root.FullName, "leak"), Path.Combine(_outside.FullName, "secret.txt"));
        var fs = new HostDirectoryWasiFileSystem(_root.FullName);

        Assert.Equal(WasiErrno.NotCapable, fs.OpenFile("leak", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.NotCapable, fs.GetStat("leak", out _));
    }

    [Fact]
    public void OpenFile_ThroughDirectorySymlinkToOutside_IsNotCapable()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root.FullName, "out"), _outside.FullName);
        var fs = new HostDirectoryWasiFileSystem(_root.FullName);

        Assert.Equal(WasiErrno.NotCapable, fs.OpenFile("out/secret.txt", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.NotCapable, fs.ReadDirectory("out", out _));
        Assert.Equal(WasiErrno.NotCapable, fs.OpenFile("out/new.txt", WasiOpenFlags.Create | WasiOpenFlags.Write, out _));
        Assert.False(File.Exists(Path.Combine(_outside.FullName, "new.txt")));
    }

    [Fact]
    public void OpenFile_CreateThroughDanglingSymlinkToOutside_IsNotCapable()
    {
        var target = Path.Combine(_outside.FullName, "created-by-guest.txt");
        File.CreateSymbolicLink(Path.Combine(_root.FullName, "dangling"), target);
        var fs = new HostDirectoryWasiFileSystem(_root.FullName);

        Assert.Equal(WasiErrno.NotCapable, fs.OpenFile("dangling", WasiOpenFlags.Create | WasiOpenFlags.Write, out _));
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void OpenFile_SymlinkInsideRoot_IsFollowed()
    {
        File.CreateSymbolicLink(Path.Combine(_root.FullName, "alias"), Path.Combine(_root.FullName, "inside.txt"));
        var fs = new HostDirectoryWasiFileSystem(_root.FullName);

        Assert.Equal(WasiErrno.Success, fs.OpenFile("alias", WasiOpenFlags.Read, out var file));
        using (file)
        {
            var buffer = new byte[16];
            file!.Read(buffer, 0, out var n);
            Assert.Equal("inside", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        }
    }

    [Fact]
    public void ReadOnly_Changes_AreRoFs()
    {
        var fs = new HostDirectoryWasiFileSystem(_root.FullName, readOnly: true);

        Assert.Equal(WasiErrno.RoFs, fs.OpenFile("inside.txt", WasiOpenFlags.Write, out _));
        Assert.Equal(WasiErrno.RoFs, fs.OpenFile("new.txt", WasiOpenFlags.Create | WasiOpenFlags.Write, out _));
        Assert.Equal(WasiErrno.RoFs, fs.DeleteFile("inside.txt"));
        Assert.Equal(WasiErrno.RoFs, fs.CreateDirectory("d"));
        Assert.Equal(WasiErrno.RoFs, fs.Rename("inside.txt", "x.txt"));
        Assert.Equal(WasiErrno.Success, fs.OpenFile("inside.txt", WasiOpenFlags.Read, out var file));
        file!.Dispose();
        Assert.True(File.Exists(Path.Combine(_root.FullName, "inside.txt")));
    }

    [Fact]
    public void Operations_MatchPosixErrors()
    {
        var fs = new HostDirectoryWasiFileSystem(_root.FullName);

        Assert.Equal(WasiErrno.NoEnt, fs.OpenFile("missing", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.NotDir, fs.OpenFile("inside.txt/x", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.IsDir, fs.OpenFile("sub", WasiOpenFlags.Read, out _));
        Assert.Equal(WasiErrno.Exist, fs.OpenFile("inside.txt", WasiOpenFlags.Create | WasiOpenFlags.Exclusive | WasiOpenFlags.Write, out _));
        Assert.Equal(WasiErrno.Exist, fs.CreateDirectory("sub"));
        Assert.Equal(WasiErrno.NoEnt, fs.CreateDirectory("a/b"));
        Assert.Equal(WasiErrno.IsDir, fs.DeleteFile("sub"));
        Assert.Equal(WasiErrno.NotDir, fs.RemoveDirectory("inside.txt"));
        Assert.Equal(WasiErrno.Success, fs.ReadDirectory(string.Empty, out var entries));
        Assert.Equal(["inside.txt", "sub"], entries.Select(e => e.Name));
        Assert.Equal(WasiErrno.Success, fs.GetStat("inside.txt", out var stat));
        Assert.Equal(WasiFileType.RegularFile, stat.Type);
        Assert.Equal(6UL, stat.Size);
    }

    [Fact]
    public void Constructor_MissingDirectory_Throws()
    {
        Assert.Throws<DirectoryNotFoundException>(() => new HostDirectoryWasiFileSystem(Path.Combine(_root.FullName, "nope")));
    }
}
