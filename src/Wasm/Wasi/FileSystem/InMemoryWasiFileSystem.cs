using System.Diagnostics.CodeAnalysis;
using Xmbl.Cluster.Wasm.Wasi.Internal;

namespace Xmbl.Cluster.Wasm.Wasi.FileSystem;

/// <summary>A file tree held in memory: the sandbox for jobs and tests. Thread-safe.</summary>
/// <remarks>
/// Inode numbers are handed out in creation order and timestamps come from the supplied clock (by default
/// always 0), so the same sequence of operations gives the same observable attributes on every run.
/// An optional capacity bounds the total bytes stored; writes beyond it fail with <see cref="WasiErrno.NoSpc"/>.
/// </remarks>
public sealed class InMemoryWasiFileSystem : IWasiFileSystem
{
    private readonly Lock _lock = new();
    private readonly Func<ulong> _clock;
    private readonly DirectoryNode _root;
    private ulong _nextInode = 1;
    private long _usedBytes;

    /// <summary>Creates an empty file system.</summary>
    /// <param name="capacityBytes">The most file content it holds; null for no limit.</param>
    /// <param name="clock">Timestamps for new and modified files, nanoseconds since the Unix epoch; default 0.</param>
    public InMemoryWasiFileSystem(long? capacityBytes = null, Func<ulong>? clock = null)
    {
        if (capacityBytes is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), "The capacity cannot be negative.");
        }

        CapacityBytes = capacityBytes;
        _clock = clock ?? (static () => 0UL);
        _root = new DirectoryNode(_nextInode++, _clock());
    }

    /// <summary>The most file content this file system holds, or null for no limit.</summary>
    public long? CapacityBytes { get; }

    /// <summary>Total bytes of file content stored now.</summary>
    public long UsedBytes
    {
        get
        {
            lock (_lock)
            {
                return _usedBytes;
            }
        }
    }

    /// <summary>Creates or replaces a file (creating missing parent directories).</summary>
    /// <param name="path">Relative path with <c>/</c> separators.</param>
    /// <param name="content">The file's bytes.</param>
    /// <returns>This file system.</returns>
    public InMemoryWasiFileSystem AddFile(string path, ReadOnlySpan<byte> content)
    {
        var resolved = ResolveHelperPath(path);
        lock (_lock)
        {
            var parent = EnsureDirectories(ParentOf(resolved));
            var name = NameOf(resolved);
            if (parent.Children.TryGetValue(name, out var existing))
            {
                if (existing is not FileNode old)
                {
                    throw new IOException($"'{path}' is a directory.");
                }

                _usedBytes -= old.Length;
                parent.Children.Remove(name);
            }

            if (CapacityBytes is { } cap && _usedBytes + content.Length > cap)
            {
                throw new IOException($"Adding '{path}' would exceed the file system's capacity of {cap} bytes.");
            }

            var file = new FileNode(_nextInode++, _clock());
            file.Data = content.ToArray();
            file.Length = content.Length;
            _usedBytes += content.Length;
            parent.Children.Add(name, file);
        }

        return this;
    }

    /// <summary>Creates a directory and any missing parents.</summary>
    /// <param name="path">Relative path with <c>/</c> separators.</param>
    /// <returns>This file system.</returns>
    public InMemoryWasiFileSystem AddDirectory(string path)
    {
        var resolved = ResolveHelperPath(path);
        lock (_lock)
        {
            EnsureDirectories(resolved);
        }

        return this;
    }

    /// <summary>Reads a whole file, if it exists.</summary>
    /// <param name="path">Relative path with <c>/</c> separators.</param>
    /// <param name="content">The file's bytes.</param>
    /// <returns>Whether the file exists.</returns>
    public bool TryReadFile(string path, [NotNullWhen(true)] out byte[]? content)
    {
        var resolved = ResolveHelperPath(path);
        lock (_lock)
        {
            if (Find(resolved, out var node) == WasiErrno.Success && node is FileNode file)
            {
                content = file.Data.AsSpan(0, (int)file.Length).ToArray();
                return true;
            }
        }

        content = null;
        return false;
    }

    /// <summary>Lists every regular file, as relative paths in ordinal order.</summary>
    /// <returns>The paths.</returns>
    public IReadOnlyList<string> ListFiles()
    {
        var result = new List<string>();
        lock (_lock)
        {
            Collect(_root, string.Empty, result);
        }

        return result;

        static void Collect(DirectoryNode dir, string prefix, List<string> into)
        {
            foreach (var (name, node) in dir.Children)
            {
                var path = prefix.Length == 0 ? name : prefix + "/" + name;
                if (node is DirectoryNode sub)
                {
                    Collect(sub, path, into);
                }
                else
                {
                    into.Add(path);
                }
            }
        }
    }

    /// <inheritdoc/>
    public WasiErrno GetStat(string path, out WasiFileStat stat)
    {
        lock (_lock)
        {
            var err = Find(path, out var node);
            stat = err == WasiErrno.Success ? node!.Stat() : default;
            return err;
        }
    }

    /// <inheritdoc/>
    public WasiErrno OpenFile(string path, WasiOpenFlags flags, out IWasiFile? file)
    {
        file = null;
        lock (_lock)
        {
            var err = FindParent(path, out var parent);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            if (path.Length == 0)
            {
                return WasiErrno.IsDir;
            }

            var name = NameOf(path);
            if (parent!.Children.TryGetValue(name, out var node))
            {
                if ((flags & (WasiOpenFlags.Create | WasiOpenFlags.Exclusive)) == (WasiOpenFlags.Create | WasiOpenFlags.Exclusive))
                {
                    return WasiErrno.Exist;
                }

                if (node is not FileNode existing)
                {
                    return WasiErrno.IsDir;
                }

                if ((flags & WasiOpenFlags.Truncate) != 0)
                {
                    if ((flags & WasiOpenFlags.Write) == 0)
                    {
                        return WasiErrno.Inval;
                    }

                    _usedBytes -= existing.Length;
                    existing.Length = 0;
                    existing.Data = [];
                    existing.Modified = _clock();
                }

                file = new InMemoryFile(this, existing, flags);
                return WasiErrno.Success;
            }

            if ((flags & WasiOpenFlags.Create) == 0)
            {
                return WasiErrno.NoEnt;
            }

            var created = new FileNode(_nextInode++, _clock());
            parent.Children.Add(name, created);
            parent.Modified = created.Modified;
            file = new InMemoryFile(this, created, flags);
            return WasiErrno.Success;
        }
    }

    /// <inheritdoc/>
    public WasiErrno ReadDirectory(string path, out IReadOnlyList<WasiDirectoryEntry> entries)
    {
        lock (_lock)
        {
            var err = Find(path, out var node);
            if (err != WasiErrno.Success)
            {
                entries = [];
                return err;
            }

            if (node is not DirectoryNode dir)
            {
                entries = [];
                return WasiErrno.NotDir;
            }

            var list = new List<WasiDirectoryEntry>(dir.Children.Count);
            foreach (var (name, child) in dir.Children)
            {
                list.Add(new WasiDirectoryEntry(name, child.Type, child.Inode));
            }

            entries = list;
            return WasiErrno.Success;
        }
    }

    /// <inheritdoc/>
    public WasiErrno CreateDirectory(string path)
    {
        lock (_lock)
        {
            if (path.Length == 0)
            {
                return WasiErrno.Exist;
            }

            var err = FindParent(path, out var parent);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            var name = NameOf(path);
            if (parent!.Children.ContainsKey(name))
            {
                return WasiErrno.Exist;
            }

            var dir = new DirectoryNode(_nextInode++, _clock());
            parent.Children.Add(name, dir);
            parent.Modified = dir.Modified;
            return WasiErrno.Success;
        }
    }

    /// <inheritdoc/>
    public WasiErrno RemoveDirectory(string path)
    {
        lock (_lock)
        {
            if (path.Length == 0)
            {
                return WasiErrno.Busy;
            }

            var err = FindParent(path, out var parent);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            var name = NameOf(path);
            if (!parent!.Children.TryGetValue(name, out var node))
            {
                return WasiErrno.NoEnt;
            }

            if (node is not DirectoryNode dir)
            {
                return WasiErrno.NotDir;
            }

            if (dir.Children.Count != 0)
            {
                return WasiErrno.NotEmpty;
            }

            parent.Children.Remove(name);
            parent.Modified = _clock();
            return WasiErrno.Success;
        }
    }

    /// <inheritdoc/>
    public WasiErrno DeleteFile(string path)
    {
        lock (_lock)
        {
            if (path.Length == 0)
            {
                return WasiErrno.IsDir;
            }

            var err = FindParent(path, out var parent);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            var name = NameOf(path);
            if (!parent!.Children.TryGetValue(name, out var node))
            {
                return WasiErrno.NoEnt;
            }

            if (node is not FileNode file)
            {
                return WasiErrno.IsDir;
            }

            parent.Children.Remove(name);
            parent.Modified = _clock();
            // Open descriptors keep the node alive (POSIX unlink semantics); its bytes stop counting now.
            _usedBytes -= file.Length;
            file.Unlinked = true;
            return WasiErrno.Success;
        }
    }

    /// <inheritdoc/>
    public WasiErrno Rename(string from, string to)
    {
        lock (_lock)
        {
            if (from.Length == 0 || to.Length == 0)
            {
                return WasiErrno.Busy;
            }

            var err = FindParent(from, out var fromParent);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            if (!fromParent!.Children.TryGetValue(NameOf(from), out var node))
            {
                return WasiErrno.NoEnt;
            }

            err = FindParent(to, out var toParent);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            if (string.Equals(from, to, StringComparison.Ordinal))
            {
                return WasiErrno.Success;
            }

            // A directory cannot move inside itself.
            if (node is DirectoryNode && to.StartsWith(from + "/", StringComparison.Ordinal))
            {
                return WasiErrno.Inval;
            }

            var toName = NameOf(to);
            if (toParent!.Children.TryGetValue(toName, out var target))
            {
                switch (node, target)
                {
                    case (FileNode, DirectoryNode):
                        return WasiErrno.IsDir;
                    case (DirectoryNode, FileNode):
                        return WasiErrno.NotDir;
                    case (DirectoryNode, DirectoryNode { Children.Count: > 0 }):
                        return WasiErrno.NotEmpty;
                    case (_, FileNode replaced):
                        _usedBytes -= replaced.Length;
                        replaced.Unlinked = true;
                        break;
                }

                toParent.Children.Remove(toName);
            }

            fromParent.Children.Remove(NameOf(from));
            toParent.Children.Add(toName, node);
            fromParent.Modified = toParent.Modified = _clock();
            return WasiErrno.Success;
        }
    }

    private static string ResolveHelperPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var err = WasiPath.Normalize(string.Empty, path.TrimStart('/'), out var resolved);
        if (err != WasiErrno.Success)
        {
            throw new ArgumentException($"'{path}' is not a valid relative path ({err}).", nameof(path));
        }

        return resolved;
    }

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? string.Empty : path[..slash];
    }

    private static string NameOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    private DirectoryNode EnsureDirectories(string path)
    {
        var dir = _root;
        if (path.Length == 0)
        {
            return dir;
        }

        foreach (var segment in path.Split('/'))
        {
            if (!dir.Children.TryGetValue(segment, out var node))
            {
                node = new DirectoryNode(_nextInode++, _clock());
                dir.Children.Add(segment, node);
            }

            dir = node as DirectoryNode ?? throw new IOException($"'{segment}' in '{path}' is a file, not a directory.");
        }

        return dir;
    }

    private WasiErrno Find(string path, out Node? node)
    {
        node = _root;
        if (path.Length == 0)
        {
            return WasiErrno.Success;
        }

        foreach (var segment in path.Split('/'))
        {
            if (node is not DirectoryNode dir)
            {
                node = null;
                return WasiErrno.NotDir;
            }

            if (!dir.Children.TryGetValue(segment, out node))
            {
                return WasiErrno.NoEnt;
            }
        }

        return WasiErrno.Success;
    }

    private WasiErrno FindParent(string path, out DirectoryNode? parent)
    {
        parent = null;
        var err = Find(ParentOf(path), out var node);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        if (node is not DirectoryNode dir)
        {
            return WasiErrno.NotDir;
        }

        parent = dir;
        return WasiErrno.Success;
    }

    private abstract class Node(ulong inode, ulong created)
    {
        public ulong Inode { get; } = inode;

        public ulong Modified { get; set; } = created;

        public abstract WasiFileType Type { get; }

        public abstract WasiFileStat Stat();
    }

    private sealed class DirectoryNode(ulong inode, ulong created) : Node(inode, created)
    {
        public SortedDictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);

        public override WasiFileType Type => WasiFileType.Directory;

        public override WasiFileStat Stat() => new(WasiFileType.Directory, 0, Inode, Modified, Modified, Modified);
    }

    private sealed class FileNode(ulong inode, ulong created) : Node(inode, created)
    {
        public byte[] Data { get; set; } = [];

        public long Length { get; set; }

        public bool Unlinked { get; set; }

        public override WasiFileType Type => WasiFileType.RegularFile;

        public override WasiFileStat Stat() => new(WasiFileType.RegularFile, (ulong)Length, Inode, Modified, Modified, Modified);
    }

    private sealed class InMemoryFile(InMemoryWasiFileSystem owner, FileNode node, WasiOpenFlags flags) : IWasiFile
    {
        // .NET arrays top out just under 2 GiB; larger files are refused rather than corrupted.
        private static readonly long MaxFileLength = Array.MaxLength;

        public WasiErrno Read(Span<byte> buffer, long offset, out int bytesRead)
        {
            bytesRead = 0;
            if ((flags & WasiOpenFlags.Read) == 0)
            {
                return WasiErrno.BadF;
            }

            lock (owner._lock)
            {
                if (offset >= node.Length)
                {
                    return WasiErrno.Success;
                }

                var count = (int)Math.Min(buffer.Length, node.Length - offset);
                node.Data.AsSpan((int)offset, count).CopyTo(buffer);
                bytesRead = count;
                return WasiErrno.Success;
            }
        }

        public WasiErrno Write(ReadOnlySpan<byte> data, long offset)
        {
            if ((flags & WasiOpenFlags.Write) == 0)
            {
                return WasiErrno.BadF;
            }

            lock (owner._lock)
            {
                var end = offset + data.Length;
                if (end > MaxFileLength)
                {
                    return WasiErrno.FBig;
                }

                var err = Resize(Math.Max(end, node.Length));
                if (err != WasiErrno.Success)
                {
                    return err;
                }

                data.CopyTo(node.Data.AsSpan((int)offset));
                node.Modified = owner._clock();
                return WasiErrno.Success;
            }
        }

        public WasiErrno SetLength(long length)
        {
            if ((flags & WasiOpenFlags.Write) == 0)
            {
                return WasiErrno.BadF;
            }

            if (length > MaxFileLength)
            {
                return WasiErrno.FBig;
            }

            lock (owner._lock)
            {
                var err = Resize(length);
                if (err == WasiErrno.Success)
                {
                    node.Modified = owner._clock();
                }

                return err;
            }
        }

        public WasiErrno Flush() => WasiErrno.Success;

        public WasiErrno GetStat(out WasiFileStat stat)
        {
            lock (owner._lock)
            {
                stat = node.Stat();
                return WasiErrno.Success;
            }
        }

        public void Dispose()
        {
        }

        // Called under the owner's lock.
        private WasiErrno Resize(long length)
        {
            var delta = length - node.Length;
            if (!node.Unlinked && delta > 0 && owner.CapacityBytes is { } cap && owner._usedBytes + delta > cap)
            {
                return WasiErrno.NoSpc;
            }

            if (length > node.Data.Length)
            {
                var capacity = Math.Max(length, Math.Min(MaxFileLength, Math.Max(256, (long)node.Data.Length * 2)));
                var grown = new byte[capacity];
                node.Data.AsSpan(0, (int)node.Length).CopyTo(grown);
                node.Data = grown;
            }
            else if (length < node.Length)
            {
                // Bytes past the new end must read as zero if the file grows again.
                node.Data.AsSpan((int)length, (int)(node.Length - length)).Clear();
            }

            if (!node.Unlinked)
            {
                owner._usedBytes += delta;
            }

            node.Length = length;
            return WasiErrno.Success;
        }
    }
}
