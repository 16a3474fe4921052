using Xmbl.Cluster.Storage.Internal;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Internal;

public sealed class DirectorySyncTests
{
    [Fact]
    [Trait("Suite", "BVT")]
    public void Flush_ExistingDirectory_Succeeds()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "entry"), "x");

        DirectorySync.Flush(dir.Path);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Flush_MissingDirectory_ThrowsIOExceptionNamingIt()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "missing");

        var error = Assert.Throws<IOException>(() => DirectorySync.Flush(missing));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }
}
