namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>One entry of a directory listing.</summary>
/// <param name="Name">The entry's name (one path segment).</param>
/// <param name="Type">File or directory.</param>
/// <param name="Inode">The entry's inode number.</param>
public readonly record struct WasiDirectoryEntry(string Name, WasiFileType Type, ulong Inode);
