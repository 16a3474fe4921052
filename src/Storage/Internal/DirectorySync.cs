using System.Runtime.InteropServices;

namespace Xmbl.Cluster.Storage.Internal;

/// <summary>Flushes a directory's entries (creations, renames) to disk, which fsyncing the files in it does not do.</summary>
internal static partial class DirectorySync
{
    private const int ReadOnlyFlag = 0;

    /// <summary>fsyncs <paramref name="path"/> on Unix; a no-op on Windows, where NTFS journals the rename itself and a directory cannot be opened for flushing.</summary>
    /// <exception cref="IOException">The directory could not be opened or synced.</exception>
    public static void Flush(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // .NET's file APIs refuse to open a directory, so this goes to libc (O_RDONLY works on a directory everywhere;
        // O_DIRECTORY's value differs between architectures).
        var fd = Open(path, ReadOnlyFlag);
        if (fd < 0)
        {
            throw Error("open", path);
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw Error("fsync", path);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Error(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of directory '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
