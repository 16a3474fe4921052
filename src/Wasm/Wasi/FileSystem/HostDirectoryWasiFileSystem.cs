using System.Runtime.InteropServices;

namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>A directory on the host's disk, exposed to a guest (what <c>xmbl run --dir</c> uses).</summary>
/// <remarks>
/// The guest cannot leave the directory: the WASI layer refuses absolute paths and <c>..</c> above a descriptor,
/// and this class refuses any path whose symbolic links (at any depth, including dangling ones) resolve outside
/// the root. The check runs before each operation, so a host process racing to swap a directory for a link
/// could still win; sandbox untrusted jobs with <see cref="InMemoryWasiFileSystem"/> or the storage-backed one.
/// Host timestamps are reported as they are, so runs touching real files are not bit-for-bit reproducible.
/// </remarks>
public sealed class HostDirectoryWasiFileSystem : IWasiFileSystem
{
    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    // .NET on Unix reports an unmapped errno as the IOException's HResult; 28 is ENOSPC.
    private const int LinuxEnospc = 28;

    private readonly string _root;

    /// <summary>Exposes an existing host directory.</summary>
    /// <param name="rootDirectory">The directory (relative paths are taken from the current directory).</param>
    /// <param name="readOnly">Refuse every change with <see cref="WasiErrno.RoFs"/>.</param>
    public HostDirectoryWasiFileSystem(string rootDirectory, bool readOnly = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        var full = Path.GetFullPath(rootDirectory);
        var info = new DirectoryInfo(full);
        if (!info.Exists)
        {
            throw new DirectoryNotFoundException($"The directory '{rootDirectory}' does not exist.");
        }

        // The root itself may be a link (the operator chose it); everything below must stay under its target.
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
        {
            full = target.FullName;
        }

        _root = Path.TrimEndingDirectorySeparator(full);
        ReadOnly = readOnly;
    }

    /// <summary>The host directory, fully resolved.</summary>
    public string RootDirectory => _root;

    /// <summary>Whether changes are refused.</summary>
    public bool ReadOnly { get; }

    /// <inheritdoc/>
    public WasiErrno GetStat(string path, out WasiFileStat stat)
    {
        stat = default;
        var err = MapPath(path, out var host);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        WasiFileStat result = default;
        err = Guard(() =>
        {
            FileSystemInfo info = Directory.Exists(host) ? new DirectoryInfo(host) : new FileInfo(host);
            if (!info.Exists)
            {
                return ParentProblem(host);
            }

            result = StatOf(info, path);
            return WasiErrno.Success;
        });
        stat = result;
        return err;
    }

    /// <inheritdoc/>
    public WasiErrno OpenFile(string path, WasiOpenFlags flags, out IWasiFile? file)
    {
        file = null;
        var err = MapPath(path, out var host);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        var writes = (flags & (WasiOpenFlags.Write | WasiOpenFlags.Create | WasiOpenFlags.Truncate)) != 0;
        if (ReadOnly && writes)
        {
            return File.Exists(host) || (flags & WasiOpenFlags.Create) != 0 ? WasiErrno.RoFs : WasiErrno.NoEnt;
        }

        if (Directory.Exists(host))
        {
            return WasiErrno.IsDir;
        }

        var create = (flags & WasiOpenFlags.Create) != 0;
        var exclusive = (flags & WasiOpenFlags.Exclusive) != 0;
        var truncate = (flags & WasiOpenFlags.Truncate) != 0;
        if (truncate && (flags & WasiOpenFlags.Write) == 0)
        {
            return WasiErrno.Inval;
        }

        var exists = File.Exists(host);
        if (create && exclusive && exists)
        {
            return WasiErrno.Exist;
        }

        if (!create && !exists)
        {
            return ParentProblem(host);
        }

        var mode = (create, exclusive, truncate) switch
        {
            (true, true, _) => FileMode.CreateNew,
            (true, false, true) => FileMode.Create,
            (true, false, false) => FileMode.OpenOrCreate,
            (false, _, true) => FileMode.Truncate,
            _ => FileMode.Open,
        };
        var access = (flags & (WasiOpenFlags.Read | WasiOpenFlags.Write)) switch
        {
            WasiOpenFlags.Write => FileAccess.Write,
            WasiOpenFlags.Read | WasiOpenFlags.Write => FileAccess.ReadWrite,
            _ => FileAccess.Read,
        };

        IWasiFile? opened = null;
        err = Guard(() =>
        {
            var stream = new FileStream(host, mode, access, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            opened = new HostFile(stream, StableInode(path));
            return WasiErrno.Success;
        });
        file = opened;
        return err;
    }

    /// <inheritdoc/>
    public WasiErrno ReadDirectory(string path, out IReadOnlyList<WasiDirectoryEntry> entries)
    {
        entries = [];
        var err = MapPath(path, out var host);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        if (!Directory.Exists(host))
        {
            return File.Exists(host) ? WasiErrno.NotDir : ParentProblem(host);
        }

        var list = new List<WasiDirectoryEntry>();
        err = Guard(() =>
        {
            foreach (var info in new DirectoryInfo(host).EnumerateFileSystemInfos())
            {
                var type = info.LinkTarget is not null ? WasiFileType.SymbolicLink
                    : info is DirectoryInfo ? WasiFileType.Directory : WasiFileType.RegularFile;
                var child = path.Length == 0 ? info.Name : path + "/" + info.Name;
                list.Add(new WasiDirectoryEntry(info.Name, type, StableInode(child)));
            }

            return WasiErrno.Success;
        });
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        entries = list;
        return err;
    }

    /// <inheritdoc/>
    public WasiErrno CreateDirectory(string path)
    {
        var err = MapPath(path, out var host);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        if (Directory.Exists(host) || File.Exists(host))
        {
            return WasiErrno.Exist;
        }

        if (ReadOnly)
        {
            return WasiErrno.RoFs;
        }

        if (!ParentExists(host))
        {
            return ParentProblem(host);
        }

        return Guard(() =>
        {
            Directory.CreateDirectory(host);
            return WasiErrno.Success;
        });
    }

    /// <inheritdoc/>
    public WasiErrno RemoveDirectory(string path)
    {
        if (path.Length == 0)
        {
            return WasiErrno.Busy;
        }

        var err = MapPath(path, out var host);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        var info = new DirectoryInfo(host);
        if (!info.Exists)
        {
            return File.Exists(host) ? WasiErrno.NotDir : ParentProblem(host);
        }

        if (info.LinkTarget is not null)
        {
            return WasiErrno.NotDir;
        }

        if (ReadOnly)
        {
            return WasiErrno.RoFs;
        }

        if (info.EnumerateFileSystemInfos().Any())
        {
            return WasiErrno.NotEmpty;
        }

        return Guard(() =>
        {
            info.Delete(recursive: false);
            return WasiErrno.Success;
        });
    }

    /// <inheritdoc/>
    public WasiErrno DeleteFile(string path)
    {
        var err = MapPath(path, out var host);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        if (Directory.Exists(host))
        {
            return WasiErrno.IsDir;
        }

        if (!File.Exists(host))
        {
            return ParentProblem(host);
        }

        if (ReadOnly)
        {
            return WasiErrno.RoFs;
        }

        return Guard(() =>
        {
            File.Delete(host);
            return WasiErrno.Success;
        });
    }

    /// <inheritdoc/>
    public WasiErrno Rename(string from, string to)
    {
        if (from.Length == 0 || to.Length == 0)
        {
            return WasiErrno.Busy;
        }

        var err = MapPath(from, out var hostFrom);
        if (err == WasiErrno.Success)
        {
            err = MapPath(to, out var hostTo);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            if (ReadOnly)
            {
                return WasiErrno.RoFs;
            }

            return RenameHost(hostFrom, hostTo, from, to);
        }

        return err;
    }

    private static WasiErrno RenameHost(string hostFrom, string hostTo, string from, string to)
    {
        var fromIsDir = Directory.Exists(hostFrom);
        if (!fromIsDir && !File.Exists(hostFrom))
        {
            return ParentProblem(hostFrom);
        }

        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            return WasiErrno.Success;
        }

        if (!ParentExists(hostTo))
        {
            return ParentProblem(hostTo);
        }

        return Guard(() =>
        {
            if (fromIsDir)
            {
                if (to.StartsWith(from + "/", StringComparison.Ordinal))
                {
                    return WasiErrno.Inval;
                }

                if (File.Exists(hostTo))
                {
                    return WasiErrno.NotDir;
                }

                if (Directory.Exists(hostTo))
                {
                    if (Directory.EnumerateFileSystemEntries(hostTo).Any())
                    {
                        return WasiErrno.NotEmpty;
                    }

                    Directory.Delete(hostTo);
                }

                Directory.Move(hostFrom, hostTo);
                return WasiErrno.Success;
            }

            if (Directory.Exists(hostTo))
            {
                return WasiErrno.IsDir;
            }

            File.Move(hostFrom, hostTo, overwrite: true);
            return WasiErrno.Success;
        });
    }

    private static bool ParentExists(string host) => Path.GetDirectoryName(host) is { } parent && Directory.Exists(parent);

    /// <summary>Why <paramref name="host"/> was not found: its parent is missing (NOENT) or is a file (NOTDIR).</summary>
    private static WasiErrno ParentProblem(string host)
    {
        var parent = Path.GetDirectoryName(host);
        if (parent is null || Directory.Exists(parent))
        {
            return WasiErrno.NoEnt;
        }

        return File.Exists(parent) ? WasiErrno.NotDir : ParentProblem(parent) == WasiErrno.NotDir ? WasiErrno.NotDir : WasiErrno.NoEnt;
    }

    private static WasiFileStat StatOf(FileSystemInfo info, string path)
    {
        var isDir = info is DirectoryInfo;
        return new WasiFileStat(
            isDir ? WasiFileType.Directory : WasiFileType.RegularFile,
            isDir ? 0UL : (ulong)((FileInfo)info).Length,
            StableInode(path),
            ToNanoseconds(info.LastWriteTimeUtc),
            ToNanoseconds(info.LastAccessTimeUtc),
            ToNanoseconds(info.LastWriteTimeUtc));
    }

    private static ulong ToNanoseconds(DateTime utc)
    {
        var ticks = utc.Ticks - DateTime.UnixEpoch.Ticks;
        return ticks <= 0 ? 0UL : (ulong)ticks * 100UL;
    }

    /// <summary>FNV-1a over the relative path: stable across runs and machines for the same tree.</summary>
    private static ulong StableInode(string path)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in path)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash == 0 ? 1 : hash;
    }

    private static WasiErrno Guard(Func<WasiErrno> action)
    {
        try
        {
            return action();
        }
        catch (FileNotFoundException)
        {
            return WasiErrno.NoEnt;
        }
        catch (DirectoryNotFoundException)
        {
            return WasiErrno.NoEnt;
        }
        catch (PathTooLongException)
        {
            return WasiErrno.NameTooLong;
        }
        catch (UnauthorizedAccessException)
        {
            return WasiErrno.Access;
        }
        catch (IOException e) when (e.HResult == LinuxEnospc)
        {
            return WasiErrno.NoSpc;
        }
        catch (IOException)
        {
            return WasiErrno.Io;
        }
    }

    /// <summary>Maps a resolved guest path to a host path, refusing anything that would reach outside the root.</summary>
    private WasiErrno MapPath(string path, out string host)
    {
        host = _root;
        if (path.Length == 0)
        {
            return WasiErrno.Success;
        }

        foreach (var segment in path.Split('/'))
        {
            // On Windows '\' and ':' would let a "segment" name a different directory or a drive.
            if (segment.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 ||
                (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && segment.Contains(':', StringComparison.Ordinal)))
            {
                return WasiErrno.Inval;
            }

            host = host + Path.DirectorySeparatorChar + segment;
            FileSystemInfo info = new FileInfo(host);
            if (info.LinkTarget is null)
            {
                continue;
            }

            // A link anywhere on the path must end inside the root, even if its target does not exist yet:
            // creating a file through a dangling link would otherwise create it outside.
            FileSystemInfo? target;
            try
            {
                target = info.ResolveLinkTarget(returnFinalTarget: true);
            }
            catch (IOException)
            {
                return WasiErrno.Loop;
            }

            if (target is null || !IsInsideRoot(target.FullName))
            {
                return WasiErrno.NotCapable;
            }

            host = target.FullName;
        }

        return WasiErrno.Success;
    }

    private bool IsInsideRoot(string fullPath)
    {
        var normalized = Path.TrimEndingDirectorySeparator(Path.GetFullPath(fullPath));
        return normalized.Equals(_root, PathComparison) ||
            normalized.StartsWith(_root + Path.DirectorySeparatorChar, PathComparison);
    }

    private sealed class HostFile(FileStream stream, ulong inode) : IWasiFile
    {
        public WasiErrno Read(Span<byte> buffer, long offset, out int bytesRead)
        {
            bytesRead = 0;
            if (!stream.CanRead)
            {
                return WasiErrno.BadF;
            }

            try
            {
                bytesRead = RandomAccess.Read(stream.SafeFileHandle, buffer, offset);
                return WasiErrno.Success;
            }
            catch (IOException)
            {
                return WasiErrno.Io;
            }
            catch (UnauthorizedAccessException)
            {
                return WasiErrno.BadF;
            }
        }

        public WasiErrno Write(ReadOnlySpan<byte> data, long offset)
        {
            if (!stream.CanWrite)
            {
                return WasiErrno.BadF;
            }

            try
            {
                RandomAccess.Write(stream.SafeFileHandle, data, offset);
                return WasiErrno.Success;
            }
            catch (IOException e) when (e.HResult == LinuxEnospc)
            {
                return WasiErrno.NoSpc;
            }
            catch (IOException)
            {
                return WasiErrno.Io;
            }
            catch (UnauthorizedAccessException)
            {
                return WasiErrno.BadF;
            }
        }

        public WasiErrno SetLength(long length)
        {
            if (!stream.CanWrite)
            {
                return WasiErrno.BadF;
            }

            return Guard(() =>
            {
                stream.SetLength(length);
                return WasiErrno.Success;
            });
        }

        public WasiErrno Flush() => Guard(() =>
        {
            if (stream.CanWrite)
            {
                stream.Flush(flushToDisk: true);
            }

            return WasiErrno.Success;
        });

        public WasiErrno GetStat(out WasiFileStat stat)
        {
            WasiFileStat result = default;
            var err = Guard(() =>
            {
                var info = new FileInfo(stream.Name);
                var length = RandomAccess.GetLength(stream.SafeFileHandle);
                var modified = info.Exists ? ToNanoseconds(info.LastWriteTimeUtc) : 0;
                var accessed = info.Exists ? ToNanoseconds(info.LastAccessTimeUtc) : 0;
                result = new WasiFileStat(WasiFileType.RegularFile, (ulong)length, inode, modified, accessed, modified);
                return WasiErrno.Success;
            });
            stat = result;
            return err;
        }

        public void Dispose() => stream.Dispose();
    }
}
