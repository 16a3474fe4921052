namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>WASI <c>rights</c> bits and the other small enums/flags of preview1.</summary>
internal static class WasiRights
{
    public const ulong FdDatasync = 1UL << 0;
    public const ulong FdRead = 1UL << 1;
    public const ulong FdSeek = 1UL << 2;
    public const ulong FdFdstatSetFlags = 1UL << 3;
    public const ulong FdSync = 1UL << 4;
    public const ulong FdTell = 1UL << 5;
    public const ulong FdWrite = 1UL << 6;
    public const ulong FdAdvise = 1UL << 7;
    public const ulong FdAllocate = 1UL << 8;
    public const ulong PathCreateDirectory = 1UL << 9;
    public const ulong PathCreateFile = 1UL << 10;
    public const ulong PathLinkSource = 1UL << 11;
    public const ulong PathLinkTarget = 1UL << 12;
    public const ulong PathOpen = 1UL << 13;
    public const ulong FdReaddir = 1UL << 14;
    public const ulong PathReadlink = 1UL << 15;
    public const ulong PathRenameSource = 1UL << 16;
    public const ulong PathRenameTarget = 1UL << 17;
    public const ulong PathFilestatGet = 1UL << 18;
    public const ulong PathFilestatSetSize = 1UL << 19;
    public const ulong PathFilestatSetTimes = 1UL << 20;
    public const ulong FdFilestatGet = 1UL << 21;
    public const ulong FdFilestatSetSize = 1UL << 22;
    public const ulong FdFilestatSetTimes = 1UL << 23;
    public const ulong PathSymlink = 1UL << 24;
    public const ulong PathRemoveDirectory = 1UL << 25;
    public const ulong PathUnlinkFile = 1UL << 26;
    public const ulong PollFdReadwrite = 1UL << 27;
    public const ulong SockShutdown = 1UL << 28;
    public const ulong SockAccept = 1UL << 29;

    public const ulong All = (1UL << 30) - 1;

    /// <summary>What a regular file descriptor can do (before narrowing by access mode).</summary>
    public const ulong RegularFile = FdDatasync | FdRead | FdSeek | FdFdstatSetFlags | FdSync | FdTell | FdWrite |
        FdAdvise | FdAllocate | FdFilestatGet | FdFilestatSetSize | FdFilestatSetTimes | PollFdReadwrite;

    /// <summary>What a directory descriptor can do.</summary>
    public const ulong Directory = FdFdstatSetFlags | FdSync | FdDatasync | PathCreateDirectory | PathCreateFile |
        PathLinkSource | PathLinkTarget | PathOpen | FdReaddir | PathReadlink | PathRenameSource | PathRenameTarget |
        PathFilestatGet | PathFilestatSetSize | PathFilestatSetTimes | FdFilestatGet | FdFilestatSetTimes |
        PathSymlink | PathRemoveDirectory | PathUnlinkFile;

    /// <summary>Rights that mean the guest wants to modify a file's content.</summary>
    public const ulong WriteIntent = FdWrite | FdAllocate | FdFilestatSetSize;

    // oflags
    public const ushort OflagCreat = 1;
    public const ushort OflagDirectory = 2;
    public const ushort OflagExcl = 4;
    public const ushort OflagTrunc = 8;

    // fdflags
    public const ushort FdflagAppend = 1;
    public const ushort FdflagDsync = 2;
    public const ushort FdflagNonblock = 4;
    public const ushort FdflagRsync = 8;
    public const ushort FdflagSync = 16;
    public const ushort FdflagsAll = 31;

    // whence
    public const int WhenceSet = 0;
    public const int WhenceCur = 1;
    public const int WhenceEnd = 2;

    // clockid
    public const int ClockRealtime = 0;
    public const int ClockMonotonic = 1;
    public const int ClockProcessCputime = 2;
    public const int ClockThreadCputime = 3;

    // eventtype / subscription tags
    public const byte EventClock = 0;
    public const byte EventFdRead = 1;
    public const byte EventFdWrite = 2;

    // subclockflags
    public const ushort SubscriptionClockAbstime = 1;
}
