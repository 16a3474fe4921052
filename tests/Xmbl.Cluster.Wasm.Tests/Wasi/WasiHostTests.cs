using System.Buffers.Binary;
using System.Text;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;
using Xmbl.Cluster.Wasm.Wasi.Internal;

namespace Xmbl.Cluster.Wasm.Tests.Wasi;

/// <summary>Calls the WASI functions directly on a memory, checking errno values and layouts.</summary>
[Trait("Suite", "BVT")]
public sealed class WasiHostTests
{
    private const uint PathAt = 1024;
    private const uint OutAt = 4096;
    private const ulong ReadRights = WasiRights.FdRead | WasiRights.FdSeek | WasiRights.FdTell | WasiRights.FdReaddir;
    private const ulong WriteRights = WasiRights.FdWrite | WasiRights.FdSeek | WasiRights.FdTell;

    private readonly Memory _memory = new(1, null);
    private readonly InMemoryWasiFileSystem _fs = new InMemoryWasiFileSystem()
        .AddFile("a.txt", "alpha"u8)
        .AddFile("dir/b.txt", "beta"u8)
        .AddDirectory("dir/sub");

    private GuestMemory Mem => new(_memory);

    [Fact]
    public void FdPrestatGet_PreopenAndBeyond_ReportsNameThenBadF()
    {
        var host = Host(c => c.AddPreopen("/data", _fs));

        Assert.Equal(WasiErrno.Success, host.FdPrestatGet(Mem, 3, OutAt));
        Assert.Equal(0, _memory.Span[(int)OutAt]);
        Assert.Equal(5u, U32(OutAt + 4));
        Assert.Equal(WasiErrno.Success, host.FdPrestatDirName(Mem, 3, PathAt, 5));
        Assert.Equal("/data", Encoding.UTF8.GetString(_memory.Span.Slice((int)PathAt, 5)));
        Assert.Equal(WasiErrno.NameTooLong, host.FdPrestatDirName(Mem, 3, PathAt, 4));
        Assert.Equal(WasiErrno.BadF, host.FdPrestatGet(Mem, 4, OutAt));
        Assert.Equal(WasiErrno.BadF, host.FdPrestatGet(Mem, 1, OutAt));
    }

    [Fact]
    public void PathOpen_EscapingPaths_AreNotCapable()
    {
        var host = Host(c => c.AddPreopen(".", _fs));

        Assert.Equal(WasiErrno.NotCapable, Open(host, 3, "../a.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.NotCapable, Open(host, 3, "dir/../../a.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.NotCapable, Open(host, 3, "/etc/passwd", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "dir/../a.txt", 0, ReadRights, out _));
    }

    [Fact]
    public void PathOpen_SubdirectoryDescriptor_CannotReachItsParent()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "dir", WasiRights.OflagDirectory, ReadRights, out var dirFd));

        Assert.Equal(WasiErrno.Success, Open(host, dirFd, "b.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.NotCapable, Open(host, dirFd, "../a.txt", 0, ReadRights, out _));
    }

    [Fact]
    public void PathOpen_FlagCombinations_GivePosixErrors()
    {
        var host = Host(c => c.AddPreopen(".", _fs));

        Assert.Equal(WasiErrno.NoEnt, Open(host, 3, "missing.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.NotDir, Open(host, 3, "a.txt", WasiRights.OflagDirectory, ReadRights, out _));
        Assert.Equal(WasiErrno.Exist, Open(host, 3, "a.txt", WasiRights.OflagCreat | WasiRights.OflagExcl, WriteRights, out _));
        Assert.Equal(WasiErrno.IsDir, Open(host, 3, "dir", 0, WriteRights, out _));
        Assert.Equal(WasiErrno.NotDir, Open(host, 3, "a.txt/x", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.BadF, Open(host, 9, "a.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.NotDir, Open(host, 1, "a.txt", 0, ReadRights, out _));
    }

    [Fact]
    public void PathOpen_BeyondMaxOpenFiles_FailsWithMFile()
    {
        var host = Host(c =>
        {
            c.AddPreopen(".", _fs);
            c.MaxOpenFiles = 6;
        });

        Assert.Equal(WasiErrno.Success, Open(host, 3, "a.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "a.txt", 0, ReadRights, out var second));
        Assert.Equal(WasiErrno.MFile, Open(host, 3, "a.txt", 0, ReadRights, out _));
        Assert.Equal(WasiErrno.Success, host.FdClose(second));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "a.txt", 0, ReadRights, out var reused));
        Assert.Equal(second, reused);
    }

    [Fact]
    public void FdReadAndSeek_OnFile_FollowOffsets()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "a.txt", 0, ReadRights, out var fd));

        SetIovec(OutAt, 2048, 3);
        Assert.Equal(WasiErrno.Success, host.FdRead(Mem, fd, OutAt, 1, OutAt + 64));
        Assert.Equal(3u, U32(OutAt + 64));
        Assert.Equal("alp", Encoding.ASCII.GetString(_memory.Span.Slice(2048, 3)));

        Assert.Equal(WasiErrno.Success, host.FdSeek(Mem, fd, -1, WasiRights.WhenceEnd, OutAt + 64));
        Assert.Equal(4UL, U64(OutAt + 64));
        Assert.Equal(WasiErrno.Inval, host.FdSeek(Mem, fd, -10, WasiRights.WhenceCur, OutAt + 64));
        Assert.Equal(WasiErrno.Inval, host.FdSeek(Mem, fd, 0, 7, OutAt + 64));
        Assert.Equal(WasiErrno.Success, host.FdTell(Mem, fd, OutAt + 64));
        Assert.Equal(4UL, U64(OutAt + 64));
        Assert.Equal(WasiErrno.BadF, host.FdWrite(Mem, fd, OutAt, 1, OutAt + 64));
    }

    [Fact]
    public void FdWrite_AppendFlag_AlwaysWritesAtTheEnd()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "a.txt", 0, WriteRights, out var fd, WasiRights.FdflagAppend));
        "++"u8.CopyTo(_memory.Span[2048..]);
        SetIovec(OutAt, 2048, 2);

        Assert.Equal(WasiErrno.Success, host.FdSeek(Mem, fd, 0, WasiRights.WhenceSet, OutAt + 64));
        Assert.Equal(WasiErrno.Success, host.FdWrite(Mem, fd, OutAt, 1, OutAt + 64));

        Assert.True(_fs.TryReadFile("a.txt", out var content));
        Assert.Equal("alpha++", Encoding.ASCII.GetString(content));
    }

    [Fact]
    public void FdSeek_OnStdio_IsSpipe()
    {
        var host = Host();

        Assert.Equal(WasiErrno.SPipe, host.FdSeek(Mem, 1, 0, WasiRights.WhenceCur, OutAt));
        Assert.Equal(WasiErrno.SPipe, host.FdTell(Mem, 0, OutAt));
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 0)]
    public void FdFdstatGet_Stdout_ReportsTerminalOnlyWhenConfigured(bool terminal, byte expectedType)
    {
        var host = Host(c => c.StdioIsTerminal = terminal);

        Assert.Equal(WasiErrno.Success, host.FdFdstatGet(Mem, 1, OutAt));
        Assert.Equal(expectedType, _memory.Span[(int)OutAt]);
        var rights = U64(OutAt + 8);
        Assert.NotEqual(0UL, rights & WasiRights.FdWrite);
        Assert.Equal(0UL, rights & (WasiRights.FdSeek | WasiRights.FdTell));
    }

    [Fact]
    public void FdFdstatGet_Preopen_InheritsEveryRight()
    {
        var host = Host(c => c.AddPreopen(".", _fs));

        Assert.Equal(WasiErrno.Success, host.FdFdstatGet(Mem, 3, OutAt));
        Assert.Equal((byte)WasiFileType.Directory, _memory.Span[(int)OutAt]);
        Assert.Equal(WasiRights.All, U64(OutAt + 16));
    }

    [Fact]
    public void FdReaddir_SmallBuffer_FillsItCompletelyAndCookiesResume()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        var names = new List<string>();
        ulong cookie = 0;
        while (true)
        {
            // 40 bytes: one 24-byte header and a short name fit; longer names are cut, like wasi-libc expects.
            Assert.Equal(WasiErrno.Success, host.FdReaddir(Mem, 3, 2048, 40, cookie, OutAt));
            var used = U32(OutAt);
            if (used == 0)
            {
                break;
            }

            var next = BinaryPrimitives.ReadUInt64LittleEndian(_memory.Span[2048..]);
            var nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(_memory.Span[(2048 + 16)..]);
            Assert.True(24 + nameLength <= 40);
            names.Add(Encoding.UTF8.GetString(_memory.Span.Slice(2048 + 24, nameLength)));
            cookie = next;
        }

        Assert.Equal([".", "..", "a.txt", "dir"], names);
    }

    [Fact]
    public void FdReaddir_EntryLargerThanBuffer_ReportsAFullBuffer()
    {
        var host = Host(c => c.AddPreopen(".", _fs));

        Assert.Equal(WasiErrno.Success, host.FdReaddir(Mem, 3, 2048, 10, 0, OutAt));

        Assert.Equal(10u, U32(OutAt));
    }

    [Fact]
    public void PollOneoff_DeterministicClock_AdvancesVirtualTimeWithoutWaiting()
    {
        var host = Host(c => c.MakeDeterministic(1));
        Assert.Equal(WasiErrno.Success, host.ClockTimeGet(Mem, WasiRights.ClockMonotonic, OutAt));
        var before = U64(OutAt);
        WriteClockSubscription(PathAt, userdata: 77, clockId: WasiRights.ClockMonotonic, timeoutNs: 3_600_000_000_000UL);

        Assert.Equal(WasiErrno.Success, host.PollOneoff(Mem, PathAt, 2048, 1, OutAt + 8));

        Assert.Equal(1u, U32(OutAt + 8));
        Assert.Equal(77UL, U64(2048));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(_memory.Span[(2048 + 8)..]));
        Assert.Equal(WasiErrno.Success, host.ClockTimeGet(Mem, WasiRights.ClockMonotonic, OutAt));
        Assert.True(U64(OutAt) - before >= 3_600_000_000_000UL);
    }

    [Fact]
    public void PollOneoff_NoSubscriptions_IsInval()
    {
        Assert.Equal(WasiErrno.Inval, Host().PollOneoff(Mem, PathAt, 2048, 0, OutAt));
    }

    [Fact]
    public void PollOneoff_HostClockCancelled_TrapsWithTimeout()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var host = Host(c => c.Cancellation = cts.Token);
        WriteClockSubscription(PathAt, userdata: 1, clockId: WasiRights.ClockMonotonic, timeoutNs: 60_000_000_000UL);

        var trap = Assert.Throws<WasmTrapException>(() => host.PollOneoff(Mem, PathAt, 2048, 1, OutAt));

        Assert.Equal(TrapKind.Timeout, trap.Kind);
    }

    [Fact]
    public void ClockTimeGet_DeterministicMode_StartsAtEpochAndStepsPerRead()
    {
        var host = Host(c => c.MakeDeterministic(5));

        host.ClockTimeGet(Mem, WasiRights.ClockRealtime, OutAt);
        var first = U64(OutAt);
        host.ClockTimeGet(Mem, WasiRights.ClockRealtime, OutAt);
        var second = U64(OutAt);

        Assert.Equal(1_704_067_200_000_000_000UL + 1000, first);
        Assert.Equal(1000UL, second - first);
        Assert.Equal(WasiErrno.Inval, host.ClockTimeGet(Mem, 9, OutAt));
    }

    [Fact]
    public void RandomGet_SameSeed_SameBytesAcrossHosts()
    {
        var a = Host(c => c.Seed = 99);
        a.RandomGet(Mem, 2048, 37);
        var first = _memory.Span.Slice(2048, 37).ToArray();
        var b = Host(c => c.Seed = 99);
        b.RandomGet(Mem, 2048, 37);

        Assert.Equal(first, _memory.Span.Slice(2048, 37).ToArray());
        Assert.Contains(first, x => x != 0);
    }

    [Fact]
    public void ArgsAndEnviron_SizesAndContents_MatchTheLayout()
    {
        var host = Host(c => c.AddArgument("prog").AddArgument("x").AddEnvironment("K", "V"));

        Assert.Equal(WasiErrno.Success, host.ArgsSizesGet(Mem, OutAt, OutAt + 4));
        Assert.Equal(2u, U32(OutAt));
        Assert.Equal(7u, U32(OutAt + 4));
        Assert.Equal(WasiErrno.Success, host.ArgsGet(Mem, PathAt, 2048));
        Assert.Equal(2048u, U32(PathAt));
        Assert.Equal(2053u, U32(PathAt + 4));
        Assert.Equal("prog\0x\0", Encoding.ASCII.GetString(_memory.Span.Slice(2048, 7)));
        Assert.Equal(WasiErrno.Success, host.EnvironSizesGet(Mem, OutAt, OutAt + 4));
        Assert.Equal(1u, U32(OutAt));
        Assert.Equal(4u, U32(OutAt + 4));
    }

    [Fact]
    public void GuestPointer_OutOfBounds_IsAFault()
    {
        var host = Host();

        Assert.Throws<WasiFaultException>(() => host.ArgsSizesGet(Mem, 65_534, 0));
        Assert.Throws<WasiFaultException>(() => host.RandomGet(Mem, 65_000, 1000));
        Assert.Throws<WasiFaultException>(() => host.FdWrite(Mem, 1, uint.MaxValue - 3, 1, 0));
    }

    [Fact]
    public void FdRenumber_MovesDescriptorAndClosesTarget()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "a.txt", 0, ReadRights, out var a));
        Assert.Equal(WasiErrno.Success, Open(host, 3, "dir/b.txt", 0, ReadRights, out var b));

        Assert.Equal(WasiErrno.Success, host.FdRenumber(a, b));

        Assert.Equal(WasiErrno.BadF, host.FdClose(a));
        SetIovec(OutAt, 2048, 5);
        Assert.Equal(WasiErrno.Success, host.FdRead(Mem, b, OutAt, 1, OutAt + 64));
        Assert.Equal("alpha", Encoding.ASCII.GetString(_memory.Span.Slice(2048, 5)));
    }

    [Fact]
    public void PathRename_AcrossPreopens_IsXDev()
    {
        var other = new InMemoryWasiFileSystem();
        var host = Host(c => c.AddPreopen("a", _fs).AddPreopen("b", other));
        WriteString(PathAt, "a.txt");
        WriteString(PathAt + 100, "moved.txt");

        Assert.Equal(WasiErrno.XDev, host.PathRename(Mem, 3, PathAt, 5, 4, PathAt + 100, 9));
        Assert.Equal(WasiErrno.Success, host.PathRename(Mem, 3, PathAt, 5, 3, PathAt + 100, 9));
        Assert.True(_fs.TryReadFile("moved.txt", out _));
    }

    [Fact]
    public void PathReadlink_NoLinksExist_ExistingPathIsInval()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        WriteString(PathAt, "a.txt");
        WriteString(PathAt + 100, "nope");

        Assert.Equal(WasiErrno.Inval, host.PathReadlink(Mem, 3, PathAt, 5, OutAt));
        Assert.Equal(WasiErrno.NoEnt, host.PathReadlink(Mem, 3, PathAt + 100, 4, OutAt));
    }

    [Fact]
    public void PathFilestatGet_File_WritesFilestatLayout()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        WriteString(PathAt, "dir/b.txt");

        Assert.Equal(WasiErrno.Success, host.PathFilestatGet(Mem, 3, PathAt, 9, OutAt));

        Assert.Equal((byte)WasiFileType.RegularFile, _memory.Span[(int)OutAt + 16]);
        Assert.Equal(4UL, U64(OutAt + 32));
        Assert.NotEqual(0UL, U64(OutAt + 8));
    }

    [Fact]
    public void PathOpen_InvalidUtf8Path_IsIlSeq()
    {
        var host = Host(c => c.AddPreopen(".", _fs));
        _memory.Span[(int)PathAt] = 0xFF;

        Assert.Equal(WasiErrno.IlSeq, host.PathOpen(Mem, 3, PathAt, 1, 0, ReadRights, 0, 0, OutAt));
    }

    private static WasiHost Host(Action<WasiConfiguration>? configure = null)
    {
        var config = new WasiConfiguration();
        configure?.Invoke(config);
        return new WasiHost(config);
    }

    private WasiErrno Open(WasiHost host, int dirFd, string path, ushort oflags, ulong rights, out int fd, ushort fdflags = 0)
    {
        var length = WriteString(PathAt, path);
        var err = host.PathOpen(Mem, dirFd, PathAt, length, oflags, rights, rights, fdflags, OutAt);
        fd = err == WasiErrno.Success ? (int)U32(OutAt) : -1;
        return err;
    }

    private uint WriteString(uint at, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes.CopyTo(_memory.Span[(int)at..]);
        return (uint)bytes.Length;
    }

    private void SetIovec(uint at, uint buffer, uint length)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_memory.Span[(int)at..], buffer);
        BinaryPrimitives.WriteUInt32LittleEndian(_memory.Span[(int)(at + 4)..], length);
    }

    private void WriteClockSubscription(uint at, ulong userdata, int clockId, ulong timeoutNs)
    {
        var s = _memory.Span.Slice((int)at, 48);
        s.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(s, userdata);
        s[8] = WasiRights.EventClock;
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], (uint)clockId);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], timeoutNs);
    }

    private uint U32(uint at) => BinaryPrimitives.ReadUInt32LittleEndian(_memory.Span[(int)at..]);

    private ulong U64(uint at) => BinaryPrimitives.ReadUInt64LittleEndian(_memory.Span[(int)at..]);
}
