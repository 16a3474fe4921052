namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>The attributes of a file or directory, as WASI's <c>filestat</c> reports them.</summary>
/// <param name="Type">File or directory.</param>
/// <param name="Size">Size in bytes (0 for directories).</param>
/// <param name="Inode">A number identifying the file within its file system (stable for a given content tree).</param>
/// <param name="ModifiedNanoseconds">Last modification, nanoseconds since the Unix epoch.</param>
/// <param name="AccessedNanoseconds">Last access, nanoseconds since the Unix epoch.</param>
/// <param name="ChangedNanoseconds">Last status change, nanoseconds since the Unix epoch.</param>
public readonly record struct WasiFileStat(
    WasiFileType Type,
    ulong Size,
    ulong Inode,
    ulong ModifiedNanoseconds,
    ulong AccessedNanoseconds,
    ulong ChangedNanoseconds);
