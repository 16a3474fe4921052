namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>A tree of files behind a preopened directory: the only way a WASI guest reaches files.</summary>
/// <remarks>
/// Paths given to these methods are already resolved by the WASI layer: relative to this file system's root,
/// segments separated by <c>/</c>, never empty segments, <c>.</c> or <c>..</c>, never absolute, no NUL; the root
/// itself is the empty string. Implementations still must not let a path reach outside their root (for example
/// through symbolic links on a host disk). Errors are returned as <see cref="WasiErrno"/> values, not thrown.
/// Directory listings must come back in a stable order (ordinal by name) so runs are reproducible.
/// </remarks>
public interface IWasiFileSystem
{
    /// <summary>Gets the attributes of a file or directory.</summary>
    /// <param name="path">The resolved path.</param>
    /// <param name="stat">The attributes.</param>
    /// <returns>Success, <see cref="WasiErrno.NoEnt"/>, <see cref="WasiErrno.NotDir"/>...</returns>
    WasiErrno GetStat(string path, out WasiFileStat stat);

    /// <summary>Opens (and possibly creates or truncates) a regular file.</summary>
    /// <param name="path">The resolved path.</param>
    /// <param name="flags">Access and creation flags.</param>
    /// <param name="file">The open file on success.</param>
    /// <returns>Success, <see cref="WasiErrno.NoEnt"/>, <see cref="WasiErrno.Exist"/>,
    /// <see cref="WasiErrno.IsDir"/>, <see cref="WasiErrno.RoFs"/>...</returns>
    WasiErrno OpenFile(string path, WasiOpenFlags flags, out IWasiFile? file);

    /// <summary>Lists a directory (without <c>.</c> and <c>..</c>), ordered ordinally by name.</summary>
    /// <param name="path">The resolved path.</param>
    /// <param name="entries">The entries.</param>
    /// <returns>Success, <see cref="WasiErrno.NoEnt"/>, <see cref="WasiErrno.NotDir"/>...</returns>
    WasiErrno ReadDirectory(string path, out IReadOnlyList<WasiDirectoryEntry> entries);

    /// <summary>Creates a directory whose parent exists.</summary>
    /// <param name="path">The resolved path.</param>
    /// <returns>Success, <see cref="WasiErrno.Exist"/>, <see cref="WasiErrno.NoEnt"/>...</returns>
    WasiErrno CreateDirectory(string path);

    /// <summary>Removes an empty directory.</summary>
    /// <param name="path">The resolved path.</param>
    /// <returns>Success, <see cref="WasiErrno.NotEmpty"/>, <see cref="WasiErrno.NotDir"/>...</returns>
    WasiErrno RemoveDirectory(string path);

    /// <summary>Deletes a regular file.</summary>
    /// <param name="path">The resolved path.</param>
    /// <returns>Success, <see cref="WasiErrno.NoEnt"/>, <see cref="WasiErrno.IsDir"/>...</returns>
    WasiErrno DeleteFile(string path);

    /// <summary>Renames a file or directory, replacing a file (or an empty directory) at the destination.</summary>
    /// <param name="from">The resolved source path.</param>
    /// <param name="to">The resolved destination path.</param>
    /// <returns>Success or the error.</returns>
    WasiErrno Rename(string from, string to);
}
