namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>WASI <c>filetype</c> values.</summary>
public enum WasiFileType : byte
{
    /// <summary>Unknown or not applicable.</summary>
    Unknown = 0,

    /// <summary>A block device.</summary>
    BlockDevice = 1,

    /// <summary>A character device (a terminal).</summary>
    CharacterDevice = 2,

    /// <summary>A directory.</summary>
    Directory = 3,

    /// <summary>A regular file.</summary>
    RegularFile = 4,

    /// <summary>A datagram socket.</summary>
    SocketDgram = 5,

    /// <summary>A stream socket.</summary>
    SocketStream = 6,

    /// <summary>A symbolic link.</summary>
    SymbolicLink = 7,
}
