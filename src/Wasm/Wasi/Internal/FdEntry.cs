using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>One open file descriptor.</summary>
internal abstract class FdEntry
{
    protected FdEntry(ulong rightsBase, ulong rightsInheriting)
    {
        RightsBase = rightsBase;
        RightsInheriting = rightsInheriting;
    }

    public ulong RightsBase { get; set; }

    public ulong RightsInheriting { get; set; }

    public ushort Flags { get; set; }

    public abstract WasiFileType FileType { get; }

    public virtual void Close()
    {
    }
}

/// <summary>Standard input, output or error, backed by a host stream (or nothing).</summary>
internal sealed class StdioFd : FdEntry
{
    public StdioFd(Stream? stream, bool input, bool terminal)
        : base(StdioRights(input, terminal), 0)
    {
        Stream = stream;
        IsInput = input;
        Terminal = terminal;
    }

    public Stream? Stream { get; }

    public bool IsInput { get; }

    public bool Terminal { get; }

    // wasi-libc treats a character device without seek/tell rights as a tty (line-buffered stdout).
    public override WasiFileType FileType => Terminal ? WasiFileType.CharacterDevice : WasiFileType.Unknown;

    private static ulong StdioRights(bool input, bool terminal) =>
        (input ? WasiRights.FdRead : WasiRights.FdWrite) | WasiRights.PollFdReadwrite |
        (terminal ? 0 : WasiRights.FdFdstatSetFlags | WasiRights.FdFilestatGet);
}

/// <summary>A directory: a preopen or one opened with path_open.</summary>
internal sealed class DirectoryFd : FdEntry
{
    public DirectoryFd(IWasiFileSystem fileSystem, string path, string? preopenName, ulong rightsBase, ulong rightsInheriting)
        : base(rightsBase, rightsInheriting)
    {
        FileSystem = fileSystem;
        Path = path;
        PreopenName = preopenName;
    }

    public IWasiFileSystem FileSystem { get; }

    /// <summary>Resolved path within the file system ("" = its root).</summary>
    public string Path { get; }

    /// <summary>The guest-visible name for preopens; null for directories opened later.</summary>
    public string? PreopenName { get; }

    /// <summary>The listing read at cookie 0 and reused while the guest pages through it.</summary>
    public List<(string Name, WasiFileType Type, ulong Inode)>? Listing { get; set; }

    public override WasiFileType FileType => WasiFileType.Directory;
}

/// <summary>An open regular file with its own offset.</summary>
internal sealed class FileFd : FdEntry
{
    public FileFd(IWasiFile file, bool canRead, bool canWrite, ulong rightsBase, ulong rightsInheriting)
        : base(rightsBase, rightsInheriting)
    {
        File = file;
        CanRead = canRead;
        CanWrite = canWrite;
    }

    public IWasiFile File { get; }

    public bool CanRead { get; }

    public bool CanWrite { get; }

    public long Position { get; set; }

    public bool Append => (Flags & WasiRights.FdflagAppend) != 0;

    public override WasiFileType FileType => WasiFileType.RegularFile;

    public override void Close() => File.Dispose();
}
