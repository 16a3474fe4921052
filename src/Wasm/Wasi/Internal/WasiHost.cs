using System.Security.Cryptography;
using System.Text;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>
/// The state and behaviour of <c>wasi_snapshot_preview1</c> for one guest: descriptor table, clocks,
/// randomness, arguments and environment. Each method is one WASI function; pointers are guest addresses and
/// the return value is the errno. Layouts follow the witx definitions (see PROTOCOL-NOTES §2.5).
/// </summary>
internal sealed class WasiHost
{
    private const int FdstatSize = 24;
    private const int FilestatSize = 64;
    private const int DirentHeaderSize = 24;
    private const int SubscriptionSize = 48;
    private const int EventSize = 32;

    private readonly WasiConfiguration _config;
    private readonly List<FdEntry?> _fds = [];
    private readonly byte[][] _args;
    private readonly byte[][] _environ;
    private readonly WasiClock _clock;
    private readonly Xoshiro256StarStar? _random;
    private int _openCount;
    private long _transferred;

    public WasiHost(WasiConfiguration config)
    {
        _config = config;
        _args = config.Arguments.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        _environ = config.Environment.Select(e => Encoding.UTF8.GetBytes(e.Key + "=" + e.Value + "\0")).ToArray();
        _clock = new WasiClock(config);
        _random = config.Seed is { } seed ? new Xoshiro256StarStar(seed) : null;

        Add(new StdioFd(config.Stdin, input: true, config.StdioIsTerminal));
        Add(new StdioFd(config.Stdout, input: false, config.StdioIsTerminal));
        Add(new StdioFd(config.Stderr, input: false, config.StdioIsTerminal));
        foreach (var preopen in config.Preopens)
        {
            Add(new DirectoryFd(preopen.FileSystem, string.Empty, preopen.GuestPath, WasiRights.Directory, WasiRights.All));
        }
    }

    /// <summary>Set by the binding layer: whether the store asked running code to stop.</summary>
    public Func<bool> Interrupted { get; set; } = static () => false;

    public int OpenDescriptorCount => _openCount;

    /// <summary>Bytes moved between guest memory and the outside since the last call (for fuel).</summary>
    public long TakeTransferredBytes()
    {
        var n = _transferred;
        _transferred = 0;
        return n;
    }

    public WasiErrno NotASocket(int fd) => Get(fd) is null ? WasiErrno.BadF : WasiErrno.NotSock;

    // ---- args / environ -------------------------------------------------------------------------

    public WasiErrno ArgsSizesGet(GuestMemory mem, uint countPtr, uint sizePtr) => SizesGet(mem, _args, countPtr, sizePtr);

    public WasiErrno ArgsGet(GuestMemory mem, uint argvPtr, uint bufPtr) => StringsGet(mem, _args, argvPtr, bufPtr);

    public WasiErrno EnvironSizesGet(GuestMemory mem, uint countPtr, uint sizePtr) => SizesGet(mem, _environ, countPtr, sizePtr);

    public WasiErrno EnvironGet(GuestMemory mem, uint environPtr, uint bufPtr) => StringsGet(mem, _environ, environPtr, bufPtr);

    // ---- clocks and randomness ------------------------------------------------------------------

    public WasiErrno ClockResGet(GuestMemory mem, int clockId, uint resultPtr)
    {
        if (!WasiClock.IsValid(clockId))
        {
            return WasiErrno.Inval;
        }

        mem.WriteU64(resultPtr, _clock.Resolution(clockId));
        return WasiErrno.Success;
    }

    public WasiErrno ClockTimeGet(GuestMemory mem, int clockId, uint resultPtr)
    {
        if (!WasiClock.IsValid(clockId))
        {
            return WasiErrno.Inval;
        }

        mem.WriteU64(resultPtr, _clock.Now(clockId));
        return WasiErrno.Success;
    }

    public WasiErrno RandomGet(GuestMemory mem, uint bufPtr, uint length)
    {
        var buffer = mem.Slice(bufPtr, length);
        _transferred += length;
        if (_random is not null)
        {
            _random.Fill(buffer);
        }
        else
        {
            RandomNumberGenerator.Fill(buffer);
        }

        return WasiErrno.Success;
    }

    public WasiErrno SchedYield()
    {
        if (!_clock.IsDeterministic)
        {
            Thread.Yield();
        }

        return WasiErrno.Success;
    }

    // ---- descriptors ----------------------------------------------------------------------------

    public WasiErrno FdClose(int fd)
    {
        if (Get(fd) is not { } entry)
        {
            return WasiErrno.BadF;
        }

        _fds[fd] = null;
        _openCount--;
        entry.Close();
        return WasiErrno.Success;
    }

    public WasiErrno FdRenumber(int from, int to)
    {
        if (Get(from) is not { } entry || Get(to) is not { } target)
        {
            return WasiErrno.BadF;
        }

        if (from == to)
        {
            return WasiErrno.Success;
        }

        target.Close();
        _fds[to] = entry;
        _fds[from] = null;
        _openCount--;
        return WasiErrno.Success;
    }

    public WasiErrno FdFdstatGet(GuestMemory mem, int fd, uint resultPtr)
    {
        if (Get(fd) is not { } entry)
        {
            return WasiErrno.BadF;
        }

        var stat = mem.Slice(resultPtr, FdstatSize);
        stat.Clear();
        stat[0] = (byte)entry.FileType;
        BitConverterLe.WriteU16(stat[2..], entry.Flags);
        BitConverterLe.WriteU64(stat[8..], entry.RightsBase);
        BitConverterLe.WriteU64(stat[16..], entry.RightsInheriting);
        return WasiErrno.Success;
    }

    public WasiErrno FdFdstatSetFlags(int fd, int flags)
    {
        if (Get(fd) is not { } entry)
        {
            return WasiErrno.BadF;
        }

        if ((flags & ~WasiRights.FdflagsAll) != 0)
        {
            return WasiErrno.Inval;
        }

        // Append only means something for files; nonblock and the sync flags are accepted and recorded
        // (every write here completes synchronously anyway).
        entry.Flags = (ushort)flags;
        return WasiErrno.Success;
    }

    public WasiErrno FdFdstatSetRights(int fd, ulong rightsBase, ulong rightsInheriting)
    {
        if (Get(fd) is not { } entry)
        {
            return WasiErrno.BadF;
        }

        // Rights can only be dropped, never gained.
        if ((rightsBase & ~entry.RightsBase) != 0 || (rightsInheriting & ~entry.RightsInheriting) != 0)
        {
            return WasiErrno.NotCapable;
        }

        entry.RightsBase = rightsBase;
        entry.RightsInheriting = rightsInheriting;
        return WasiErrno.Success;
    }

    public WasiErrno FdFilestatGet(GuestMemory mem, int fd, uint resultPtr)
    {
        WasiFileStat stat;
        switch (Get(fd))
        {
            case null:
                return WasiErrno.BadF;
            case StdioFd stdio:
                stat = new WasiFileStat(stdio.FileType, 0, 0, 0, 0, 0);
                break;
            case DirectoryFd dir:
                var err = dir.FileSystem.GetStat(dir.Path, out stat);
                if (err != WasiErrno.Success)
                {
                    return err;
                }

                break;
            case FileFd file:
                err = file.File.GetStat(out stat);
                if (err != WasiErrno.Success)
                {
                    return err;
                }

                break;
            default:
                return WasiErrno.BadF;
        }

        WriteFilestat(mem, resultPtr, stat);
        return WasiErrno.Success;
    }

    public WasiErrno FdFilestatSetSize(int fd, ulong size)
    {
        if (Get(fd) is not FileFd file)
        {
            return Get(fd) is null ? WasiErrno.BadF : WasiErrno.Inval;
        }

        if (!file.CanWrite)
        {
            return WasiErrno.BadF;
        }

        return size > long.MaxValue ? WasiErrno.FBig : file.File.SetLength((long)size);
    }

    public WasiErrno FdFilestatSetTimes(int fd) => Get(fd) is null ? WasiErrno.BadF : WasiErrno.NotSup;

    public WasiErrno FdAdvise(int fd, int advice)
    {
        if (Get(fd) is not { } entry)
        {
            return WasiErrno.BadF;
        }

        if (advice is < 0 or > 5)
        {
            return WasiErrno.Inval;
        }

        return entry is FileFd ? WasiErrno.Success : WasiErrno.SPipe;
    }

    public WasiErrno FdAllocate(int fd, ulong offset, ulong length)
    {
        if (Get(fd) is not FileFd file)
        {
            return Get(fd) is null ? WasiErrno.BadF : WasiErrno.NoDev;
        }

        if (!file.CanWrite)
        {
            return WasiErrno.BadF;
        }

        var end = offset + length;
        if (end < offset || end > long.MaxValue)
        {
            return WasiErrno.FBig;
        }

        var err = file.File.GetStat(out var stat);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        return stat.Size >= end ? WasiErrno.Success : file.File.SetLength((long)end);
    }

    public WasiErrno FdSync(int fd)
    {
        return Get(fd) switch
        {
            null => WasiErrno.BadF,
            FileFd file => file.File.Flush(),
            StdioFd { Stream: { } stream, IsInput: false } => FlushStream(stream),
            _ => WasiErrno.Success,
        };
    }

    public WasiErrno FdRead(GuestMemory mem, int fd, uint iovs, uint iovsLen, uint resultPtr)
    {
        var entry = Get(fd);
        long total = 0;
        WasiErrno err;
        switch (entry)
        {
            case null:
                return WasiErrno.BadF;
            case StdioFd { IsInput: true } stdin:
                err = ReadStream(mem, stdin.Stream, iovs, iovsLen, out total);
                break;
            case FileFd { CanRead: true } file:
                err = ReadFile(mem, file, iovs, iovsLen, file.Position, out total);
                file.Position += total;
                break;
            case DirectoryFd:
                return WasiErrno.IsDir;
            default:
                return WasiErrno.BadF;
        }

        _transferred += total;
        mem.WriteU32(resultPtr, (uint)total);
        return err;
    }

    public WasiErrno FdPread(GuestMemory mem, int fd, uint iovs, uint iovsLen, ulong offset, uint resultPtr)
    {
        switch (Get(fd))
        {
            case null:
                return WasiErrno.BadF;
            case FileFd { CanRead: true } file:
                if (offset > long.MaxValue)
                {
                    return WasiErrno.Inval;
                }

                var err = ReadFile(mem, file, iovs, iovsLen, (long)offset, out var total);
                _transferred += total;
                mem.WriteU32(resultPtr, (uint)total);
                return err;
            case StdioFd:
                return WasiErrno.SPipe;
            case DirectoryFd:
                return WasiErrno.IsDir;
            default:
                return WasiErrno.BadF;
        }
    }

    public WasiErrno FdWrite(GuestMemory mem, int fd, uint iovs, uint iovsLen, uint resultPtr)
    {
        long total;
        WasiErrno err;
        switch (Get(fd))
        {
            case null:
                return WasiErrno.BadF;
            case StdioFd { IsInput: false } output:
                err = WriteStream(mem, output.Stream, iovs, iovsLen, out total);
                break;
            case FileFd { CanWrite: true } file:
                if (file.Append)
                {
                    err = file.File.GetStat(out var stat);
                    if (err != WasiErrno.Success)
                    {
                        return err;
                    }

                    file.Position = (long)stat.Size;
                }

                err = WriteFile(mem, file, iovs, iovsLen, file.Position, out total);
                file.Position += total;
                break;
            case DirectoryFd:
                return WasiErrno.IsDir;
            default:
                return WasiErrno.BadF;
        }

        _transferred += total;
        mem.WriteU32(resultPtr, (uint)total);
        return err;
    }

    public WasiErrno FdPwrite(GuestMemory mem, int fd, uint iovs, uint iovsLen, ulong offset, uint resultPtr)
    {
        switch (Get(fd))
        {
            case null:
                return WasiErrno.BadF;
            case FileFd { CanWrite: true } file:
                if (offset > long.MaxValue)
                {
                    return WasiErrno.Inval;
                }

                var err = WriteFile(mem, file, iovs, iovsLen, (long)offset, out var total);
                _transferred += total;
                mem.WriteU32(resultPtr, (uint)total);
                return err;
            case StdioFd:
                return WasiErrno.SPipe;
            case DirectoryFd:
                return WasiErrno.IsDir;
            default:
                return WasiErrno.BadF;
        }
    }

    public WasiErrno FdSeek(GuestMemory mem, int fd, long delta, int whence, uint resultPtr)
    {
        switch (Get(fd))
        {
            case null:
                return WasiErrno.BadF;
            case FileFd file:
                long origin;
                switch (whence)
                {
                    case WasiRights.WhenceSet:
                        origin = 0;
                        break;
                    case WasiRights.WhenceCur:
                        origin = file.Position;
                        break;
                    case WasiRights.WhenceEnd:
                        var err = file.File.GetStat(out var stat);
                        if (err != WasiErrno.Success)
                        {
                            return err;
                        }

                        origin = (long)stat.Size;
                        break;
                    default:
                        return WasiErrno.Inval;
                }

                long target;
                try
                {
                    target = checked(origin + delta);
                }
                catch (OverflowException)
                {
                    return WasiErrno.Overflow;
                }

                if (target < 0)
                {
                    return WasiErrno.Inval;
                }

                file.Position = target;
                mem.WriteU64(resultPtr, (ulong)target);
                return WasiErrno.Success;
            case StdioFd:
                return WasiErrno.SPipe;
            default:
                return WasiErrno.BadF;
        }
    }

    public WasiErrno FdTell(GuestMemory mem, int fd, uint resultPtr) => FdSeek(mem, fd, 0, WasiRights.WhenceCur, resultPtr);

    public WasiErrno FdPrestatGet(GuestMemory mem, int fd, uint resultPtr)
    {
        if (Get(fd) is not DirectoryFd { PreopenName: { } name })
        {
            return WasiErrno.BadF;
        }

        mem.WriteU32(resultPtr, 0); // tag dir (u8) and padding
        mem.WriteU32(resultPtr + 4, (uint)Encoding.UTF8.GetByteCount(name));
        return WasiErrno.Success;
    }

    public WasiErrno FdPrestatDirName(GuestMemory mem, int fd, uint bufPtr, uint bufLen)
    {
        if (Get(fd) is not DirectoryFd { PreopenName: { } name })
        {
            return WasiErrno.BadF;
        }

        var bytes = Encoding.UTF8.GetBytes(name);
        if (bufLen < bytes.Length)
        {
            return WasiErrno.NameTooLong;
        }

        bytes.CopyTo(mem.Slice(bufPtr, (uint)bytes.Length));
        return WasiErrno.Success;
    }

    public WasiErrno FdReaddir(GuestMemory mem, int fd, uint bufPtr, uint bufLen, ulong cookie, uint resultPtr)
    {
        if (Get(fd) is not DirectoryFd dir)
        {
            return Get(fd) is null ? WasiErrno.BadF : WasiErrno.NotDir;
        }

        if (cookie == 0 || dir.Listing is null)
        {
            var err = dir.FileSystem.ReadDirectory(dir.Path, out var entries);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            err = dir.FileSystem.GetStat(dir.Path, out var self);
            if (err != WasiErrno.Success)
            {
                return err;
            }

            var listing = new List<(string, WasiFileType, ulong)>(entries.Count + 2)
            {
                (".", WasiFileType.Directory, self.Inode),
                ("..", WasiFileType.Directory, ParentInode(dir)),
            };
            listing.AddRange(entries.Select(e => (e.Name, e.Type, e.Inode)));
            dir.Listing = listing;
        }

        var buffer = mem.Slice(bufPtr, bufLen);
        var used = 0;
        Span<byte> header = stackalloc byte[DirentHeaderSize];
        for (var index = cookie; index < (ulong)dir.Listing.Count && used < buffer.Length; index++)
        {
            var (name, type, inode) = dir.Listing[(int)index];
            var nameBytes = Encoding.UTF8.GetBytes(name);
            header.Clear();
            BitConverterLe.WriteU64(header, index + 1);
            BitConverterLe.WriteU64(header[8..], inode);
            BitConverterLe.WriteU32(header[16..], (uint)nameBytes.Length);
            header[20] = (byte)type;

            // Entries that do not fit are cut off; wasi-libc sees a full buffer and retries with a bigger one.
            used += CopyPartial(header, buffer[used..]);
            used += CopyPartial(nameBytes, buffer[used..]);
        }

        _transferred += used;
        mem.WriteU32(resultPtr, (uint)used);
        return WasiErrno.Success;
    }

    // ---- paths ----------------------------------------------------------------------------------

    public WasiErrno PathOpen(
        GuestMemory mem, int dirFd, uint pathPtr, uint pathLen, int oflags, ulong rightsBase, ulong rightsInheriting,
        int fdflags, uint resultPtr)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out var dir, out var path);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        if ((oflags & ~(WasiRights.OflagCreat | WasiRights.OflagDirectory | WasiRights.OflagExcl | WasiRights.OflagTrunc)) != 0 ||
            (fdflags & ~WasiRights.FdflagsAll) != 0)
        {
            return WasiErrno.Inval;
        }

        if (_openCount >= _config.MaxOpenFiles)
        {
            return WasiErrno.MFile;
        }

        var create = (oflags & WasiRights.OflagCreat) != 0;
        var exclusive = (oflags & WasiRights.OflagExcl) != 0;
        var truncate = (oflags & WasiRights.OflagTrunc) != 0;
        var wantsDirectory = (oflags & WasiRights.OflagDirectory) != 0;
        var write = (rightsBase & WasiRights.WriteIntent) != 0;
        var read = (rightsBase & (WasiRights.FdRead | WasiRights.FdReaddir)) != 0;
        var inheritable = dir!.RightsInheriting;

        var statErr = dir.FileSystem.GetStat(path, out var stat);
        if (statErr == WasiErrno.Success && stat.Type == WasiFileType.Directory)
        {
            if (create && exclusive)
            {
                return WasiErrno.Exist;
            }

            if (create || truncate || write)
            {
                return WasiErrno.IsDir;
            }

            var opened = new DirectoryFd(dir.FileSystem, path, null, rightsBase & inheritable & WasiRights.Directory, rightsInheriting & inheritable)
            {
                Flags = (ushort)fdflags,
            };
            mem.WriteU32(resultPtr, (uint)Add(opened));
            return WasiErrno.Success;
        }

        if (wantsDirectory)
        {
            return statErr == WasiErrno.Success ? WasiErrno.NotDir : statErr;
        }

        if (statErr != WasiErrno.Success && statErr != WasiErrno.NoEnt)
        {
            return statErr;
        }

        var flags = WasiOpenFlags.None;
        if (read || !write)
        {
            flags |= WasiOpenFlags.Read;
        }

        if (write)
        {
            flags |= WasiOpenFlags.Write;
        }

        if (create)
        {
            flags |= WasiOpenFlags.Create;
        }

        if (exclusive)
        {
            flags |= WasiOpenFlags.Exclusive;
        }

        if (truncate)
        {
            flags |= WasiOpenFlags.Truncate | WasiOpenFlags.Write;
        }

        err = dir.FileSystem.OpenFile(path, flags, out var file);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        var fd = new FileFd(file!, (flags & WasiOpenFlags.Read) != 0, (flags & WasiOpenFlags.Write) != 0,
            rightsBase & inheritable & WasiRights.RegularFile, rightsInheriting & inheritable)
        {
            Flags = (ushort)fdflags,
        };
        mem.WriteU32(resultPtr, (uint)Add(fd));
        return WasiErrno.Success;
    }

    public WasiErrno PathFilestatGet(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen, uint resultPtr)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out var dir, out var path);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        err = dir!.FileSystem.GetStat(path, out var stat);
        if (err == WasiErrno.Success)
        {
            WriteFilestat(mem, resultPtr, stat);
        }

        return err;
    }

    public WasiErrno PathCreateDirectory(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out var dir, out var path);
        return err != WasiErrno.Success ? err : dir!.FileSystem.CreateDirectory(path);
    }

    public WasiErrno PathRemoveDirectory(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out var dir, out var path);
        return err != WasiErrno.Success ? err : dir!.FileSystem.RemoveDirectory(path);
    }

    public WasiErrno PathUnlinkFile(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out var dir, out var path);
        return err != WasiErrno.Success ? err : dir!.FileSystem.DeleteFile(path);
    }

    public WasiErrno PathRename(GuestMemory mem, int oldFd, uint oldPtr, uint oldLen, int newFd, uint newPtr, uint newLen)
    {
        var err = Resolve(mem, oldFd, oldPtr, oldLen, out var oldDir, out var oldPath);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        err = Resolve(mem, newFd, newPtr, newLen, out var newDir, out var newPath);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        return !ReferenceEquals(oldDir!.FileSystem, newDir!.FileSystem)
            ? WasiErrno.XDev
            : oldDir.FileSystem.Rename(oldPath, newPath);
    }

    public WasiErrno PathReadlink(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen, uint resultPtr)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out var dir, out var path);
        if (err != WasiErrno.Success)
        {
            return err;
        }

        mem.WriteU32(resultPtr, 0);
        // The virtual file systems have no symbolic links: an existing path is simply not a link.
        err = dir!.FileSystem.GetStat(path, out _);
        return err == WasiErrno.Success ? WasiErrno.Inval : err;
    }

    public WasiErrno PathUnsupported(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen)
    {
        var err = Resolve(mem, dirFd, pathPtr, pathLen, out _, out _);
        return err != WasiErrno.Success ? err : WasiErrno.NotSup;
    }

    // ---- poll -----------------------------------------------------------------------------------

    public WasiErrno PollOneoff(GuestMemory mem, uint inPtr, uint outPtr, uint subscriptions, uint resultPtr)
    {
        if (subscriptions == 0)
        {
            return WasiErrno.Inval;
        }

        if (subscriptions > 4096)
        {
            return WasiErrno.NoMem;
        }

        // Copied: the guest may pass overlapping input and output buffers.
        ReadOnlySpan<byte> subs = mem.Slice(inPtr, subscriptions * SubscriptionSize).ToArray();
        var events = mem.Slice(outPtr, subscriptions * EventSize);
        var count = 0;

        // Descriptor readiness: everything here is always ready (files, in-memory or blocking host streams).
        for (var i = 0; i < subscriptions; i++)
        {
            var sub = subs.Slice(i * SubscriptionSize, SubscriptionSize);
            var tag = sub[8];
            if (tag == WasiRights.EventClock)
            {
                continue;
            }

            var userdata = BitConverterLe.ReadU64(sub);
            if (tag is not (WasiRights.EventFdRead or WasiRights.EventFdWrite))
            {
                WriteEvent(events, count++, userdata, WasiErrno.Inval, tag, 0);
                continue;
            }

            var fd = (int)BitConverterLe.ReadU32(sub[16..]);
            var entry = Get(fd);
            ulong available = 0;
            var error = WasiErrno.Success;
            if (entry is null)
            {
                error = WasiErrno.BadF;
            }
            else if (tag == WasiRights.EventFdRead && entry is FileFd file)
            {
                error = file.File.GetStat(out var stat);
                available = stat.Size > (ulong)file.Position ? stat.Size - (ulong)file.Position : 0;
            }

            WriteEvent(events, count++, userdata, error, tag, available);
        }

        if (count == 0)
        {
            // Only clocks: sleep until the earliest deadline, then report every subscription that is due.
            var earliest = ulong.MaxValue;
            for (var i = 0; i < subscriptions; i++)
            {
                var sub = subs.Slice(i * SubscriptionSize, SubscriptionSize);
                var clockId = (int)BitConverterLe.ReadU32(sub[16..]);
                if (WasiClock.IsValid(clockId))
                {
                    earliest = Math.Min(earliest, Delay(sub, clockId));
                }
            }

            if (earliest != ulong.MaxValue && earliest > 0)
            {
                _clock.Sleep(earliest, _config.Cancellation, Interrupted);
            }

            for (var i = 0; i < subscriptions; i++)
            {
                var sub = subs.Slice(i * SubscriptionSize, SubscriptionSize);
                var userdata = BitConverterLe.ReadU64(sub);
                var clockId = (int)BitConverterLe.ReadU32(sub[16..]);
                if (!WasiClock.IsValid(clockId))
                {
                    WriteEvent(events, count++, userdata, WasiErrno.Inval, WasiRights.EventClock, 0);
                }
                else if (Delay(sub, clockId) <= earliest || earliest == 0)
                {
                    WriteEvent(events, count++, userdata, WasiErrno.Success, WasiRights.EventClock, 0);
                }
            }
        }

        mem.WriteU32(resultPtr, (uint)count);
        return WasiErrno.Success;
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static void WriteEvent(Span<byte> events, int index, ulong userdata, WasiErrno error, byte type, ulong nbytes)
    {
        var ev = events.Slice(index * EventSize, EventSize);
        ev.Clear();
        BitConverterLe.WriteU64(ev, userdata);
        BitConverterLe.WriteU16(ev[8..], (ushort)error);
        ev[10] = type;
        BitConverterLe.WriteU64(ev[16..], nbytes);
    }

    private static int CopyPartial(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var n = Math.Min(source.Length, destination.Length);
        source[..n].CopyTo(destination);
        return n;
    }

    private static void WriteFilestat(GuestMemory mem, uint ptr, in WasiFileStat stat)
    {
        var s = mem.Slice(ptr, FilestatSize);
        s.Clear();
        BitConverterLe.WriteU64(s[8..], stat.Inode);
        s[16] = (byte)stat.Type;
        BitConverterLe.WriteU64(s[24..], 1);
        BitConverterLe.WriteU64(s[32..], stat.Size);
        BitConverterLe.WriteU64(s[40..], stat.AccessedNanoseconds);
        BitConverterLe.WriteU64(s[48..], stat.ModifiedNanoseconds);
        BitConverterLe.WriteU64(s[56..], stat.ChangedNanoseconds);
    }

    private static WasiErrno SizesGet(GuestMemory mem, byte[][] strings, uint countPtr, uint sizePtr)
    {
        mem.WriteU32(countPtr, (uint)strings.Length);
        mem.WriteU32(sizePtr, (uint)strings.Sum(s => (long)s.Length));
        return WasiErrno.Success;
    }

    private WasiErrno StringsGet(GuestMemory mem, byte[][] strings, uint pointersPtr, uint bufPtr)
    {
        var offset = bufPtr;
        for (var i = 0; i < strings.Length; i++)
        {
            mem.WriteU32(pointersPtr + (uint)(i * 4), offset);
            strings[i].CopyTo(mem.Slice(offset, (uint)strings[i].Length));
            offset += (uint)strings[i].Length;
        }

        _transferred += offset - bufPtr;

        return WasiErrno.Success;
    }

    private static WasiErrno FlushStream(Stream stream)
    {
        try
        {
            stream.Flush();
            return WasiErrno.Success;
        }
        catch (IOException)
        {
            return WasiErrno.Io;
        }
    }

    private static WasiErrno ReadStream(GuestMemory mem, Stream? stream, uint iovs, uint iovsLen, out long total)
    {
        total = 0;
        if (stream is null)
        {
            return WasiErrno.Success;
        }

        for (uint i = 0; i < iovsLen; i++)
        {
            var buffer = mem.Slice(mem.ReadU32(iovs + (i * 8)), mem.ReadU32(iovs + (i * 8) + 4));
            if (buffer.IsEmpty)
            {
                continue;
            }

            int n;
            try
            {
                n = stream.Read(buffer);
            }
            catch (IOException)
            {
                return total > 0 ? WasiErrno.Success : WasiErrno.Io;
            }

            total += n;
            // A short read means no more data is available now; don't block for the next buffer.
            if (n < buffer.Length)
            {
                break;
            }
        }

        return WasiErrno.Success;
    }

    private static WasiErrno WriteStream(GuestMemory mem, Stream? stream, uint iovs, uint iovsLen, out long total)
    {
        total = 0;
        for (uint i = 0; i < iovsLen; i++)
        {
            var buffer = mem.Slice(mem.ReadU32(iovs + (i * 8)), mem.ReadU32(iovs + (i * 8) + 4));
            if (stream is not null && !buffer.IsEmpty)
            {
                try
                {
                    stream.Write(buffer);
                }
                catch (IOException)
                {
                    return total > 0 ? WasiErrno.Success : WasiErrno.Pipe;
                }
                catch (NotSupportedException)
                {
                    return WasiErrno.BadF;
                }
            }

            total += buffer.Length;
        }

        return WasiErrno.Success;
    }

    private static WasiErrno ReadFile(GuestMemory mem, FileFd file, uint iovs, uint iovsLen, long offset, out long total)
    {
        total = 0;
        for (uint i = 0; i < iovsLen; i++)
        {
            var buffer = mem.Slice(mem.ReadU32(iovs + (i * 8)), mem.ReadU32(iovs + (i * 8) + 4));
            if (buffer.IsEmpty)
            {
                continue;
            }

            var err = file.File.Read(buffer, offset + total, out var n);
            if (err != WasiErrno.Success)
            {
                return total > 0 ? WasiErrno.Success : err;
            }

            total += n;
            if (n < buffer.Length)
            {
                break;
            }
        }

        return WasiErrno.Success;
    }

    private static WasiErrno WriteFile(GuestMemory mem, FileFd file, uint iovs, uint iovsLen, long offset, out long total)
    {
        total = 0;
        for (uint i = 0; i < iovsLen; i++)
        {
            var buffer = mem.Slice(mem.ReadU32(iovs + (i * 8)), mem.ReadU32(iovs + (i * 8) + 4));
            if (buffer.IsEmpty)
            {
                continue;
            }

            var err = file.File.Write(buffer, offset + total);
            if (err != WasiErrno.Success)
            {
                return total > 0 ? WasiErrno.Success : err;
            }

            total += buffer.Length;
        }

        return WasiErrno.Success;
    }

    private ulong Delay(ReadOnlySpan<byte> sub, int clockId)
    {
        var timeout = BitConverterLe.ReadU64(sub[24..]);
        var flags = BitConverterLe.ReadU16(sub[40..]);
        if ((flags & WasiRights.SubscriptionClockAbstime) == 0)
        {
            return timeout;
        }

        var now = _clock.Peek(clockId);
        return timeout > now ? timeout - now : 0;
    }

    private ulong ParentInode(DirectoryFd dir)
    {
        if (dir.Path.Length == 0)
        {
            return dir.FileSystem.GetStat(string.Empty, out var root) == WasiErrno.Success ? root.Inode : 0;
        }

        var slash = dir.Path.LastIndexOf('/');
        var parent = slash < 0 ? string.Empty : dir.Path[..slash];
        return dir.FileSystem.GetStat(parent, out var stat) == WasiErrno.Success ? stat.Inode : 0;
    }

    private WasiErrno Resolve(GuestMemory mem, int dirFd, uint pathPtr, uint pathLen, out DirectoryFd? dir, out string path)
    {
        path = string.Empty;
        dir = Get(dirFd) as DirectoryFd;
        if (dir is null)
        {
            return Get(dirFd) is null ? WasiErrno.BadF : WasiErrno.NotDir;
        }

        _transferred += pathLen;
        var err = mem.ReadString(pathPtr, pathLen, out var guestPath);
        return err != WasiErrno.Success ? err : WasiPath.Normalize(dir.Path, guestPath, out path);
    }

    private FdEntry? Get(int fd) => (uint)fd < (uint)_fds.Count ? _fds[fd] : null;

    private int Add(FdEntry entry)
    {
        _openCount++;
        for (var i = 0; i < _fds.Count; i++)
        {
            if (_fds[i] is null)
            {
                _fds[i] = entry;
                return i;
            }
        }

        _fds.Add(entry);
        return _fds.Count - 1;
    }

    /// <summary>Closes every open descriptor (files are released; host streams are left to their owner).</summary>
    public void CloseAll()
    {
        for (var i = 0; i < _fds.Count; i++)
        {
            _fds[i]?.Close();
            _fds[i] = null;
        }

        _openCount = 0;
    }
}
