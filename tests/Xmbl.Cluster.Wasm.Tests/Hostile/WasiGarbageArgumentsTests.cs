using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;
using Xmbl.Cluster.Wasm.Wasi.Internal;

namespace Xmbl.Cluster.Wasm.Tests.Hostile;

/// <summary>A hostile guest calls WASI functions with arbitrary pointers, lengths, descriptors and flags over a
/// memory full of garbage: every call must come back with an errno (a bad pointer becomes EFAULT through
/// <see cref="WasiFaultException"/>), never another exception, and the file system must stay consistent.</summary>
[Trait("Suite", "Functional")]
public sealed class WasiGarbageArgumentsTests
{
    private delegate WasiErrno Call(WasiHost host, GuestMemory mem, Random r);

    private static readonly Call[] Calls =
    [
        (h, m, r) => h.ArgsGet(m, P(r), P(r)),
        (h, m, r) => h.ArgsSizesGet(m, P(r), P(r)),
        (h, m, r) => h.EnvironGet(m, P(r), P(r)),
        (h, m, r) => h.ClockTimeGet(m, Small(r), P(r)),
        (h, m, r) => h.ClockResGet(m, Small(r), P(r)),
        (h, m, r) => h.RandomGet(m, P(r), P(r)),
        (h, _, r) => h.FdClose(Fd(r)),
        (h, _, r) => h.FdRenumber(Fd(r), Fd(r)),
        (h, m, r) => h.FdFdstatGet(m, Fd(r), P(r)),
        (h, _, r) => h.FdFdstatSetFlags(Fd(r), Small(r)),
        (h, m, r) => h.FdFilestatGet(m, Fd(r), P(r)),
        (h, _, r) => h.FdFilestatSetSize(Fd(r), (ulong)r.Next(0, 1 << 16)),
        (h, _, r) => h.FdAllocate(Fd(r), (ulong)r.Next(0, 1 << 16), (ulong)r.Next(0, 1 << 16)),
        (h, m, r) => h.FdRead(m, Fd(r), P(r), P(r) % 64, P(r)),
        (h, m, r) => h.FdWrite(m, Fd(r), P(r), P(r) % 64, P(r)),
        (h, m, r) => h.FdPread(m, Fd(r), P(r), P(r) % 64, (ulong)r.NextInt64(), P(r)),
        (h, m, r) => h.FdPwrite(m, Fd(r), P(r), P(r) % 64, (ulong)r.Next(0, 1 << 20), P(r)),
        (h, m, r) => h.FdSeek(m, Fd(r), r.NextInt64(long.MinValue, long.MaxValue), Small(r), P(r)),
        (h, m, r) => h.FdTell(m, Fd(r), P(r)),
        (h, m, r) => h.FdPrestatGet(m, Fd(r), P(r)),
        (h, m, r) => h.FdPrestatDirName(m, Fd(r), P(r), P(r)),
        (h, m, r) => h.FdReaddir(m, Fd(r), P(r), P(r), (ulong)r.Next(0, 10), P(r)),
        (h, m, r) => h.PathOpen(m, Fd(r), P(r), P(r) % 300, Small(r), (ulong)r.NextInt64(), (ulong)r.NextInt64(), Small(r), P(r)),
        (h, m, r) => h.PathFilestatGet(m, Fd(r), P(r), P(r) % 300, P(r)),
        (h, m, r) => h.PathCreateDirectory(m, Fd(r), P(r), P(r) % 300),
        (h, m, r) => h.PathRemoveDirectory(m, Fd(r), P(r), P(r) % 300),
        (h, m, r) => h.PathUnlinkFile(m, Fd(r), P(r), P(r) % 300),
        (h, m, r) => h.PathRename(m, Fd(r), P(r), P(r) % 300, Fd(r), P(r), P(r) % 300),
        (h, m, r) => h.PathReadlink(m, Fd(r), P(r), P(r) % 300, P(r)),
        (h, m, r) => h.PollOneoff(m, P(r), P(r), P(r) % 8, P(r)),
    ];

    [Fact]
    public void WasiCalls_GarbageArguments_AlwaysReturnAnErrno()
    {
        var random = new Random(7);
        var memory = new Memory(1, null);
        var fs = new InMemoryWasiFileSystem(capacityBytes: 1 << 20)
            .AddFile("a", "alpha"u8).AddFile("d/b", "beta"u8).AddDirectory("d/e");
        var config = new WasiConfiguration { Stdout = Stream.Null, Stderr = Stream.Null, Stdin = new MemoryStream(new byte[100]) }
            .AddArgument("prog").AddEnvironment("K", "V").AddPreopen(".", fs).MakeDeterministic(1);
        var host = new WasiHost(config);
        var faults = 0;

        for (var i = 0; i < 20_000; i++)
        {
            if (i % 500 == 0)
            {
                // Garbage, but with plenty of short printable paths and small numbers in it.
                random.NextBytes(memory.Span);
                for (var j = 0; j < memory.Span.Length; j += 7)
                {
                    memory.Span[j] = (byte)"ab/.dez"[random.Next(7)];
                }
            }

            var call = Calls[random.Next(Calls.Length)];
            try
            {
                var errno = call(host, new GuestMemory(memory), random);
                Assert.True(Enum.IsDefined(errno), $"call {i}: errno {errno}");
            }
            catch (WasiFaultException)
            {
                faults++;
            }
        }

        Assert.True(faults > 0);
        Assert.InRange(fs.UsedBytes, 0, 1 << 20);
        Assert.InRange(host.OpenDescriptorCount, 0, WasiConfiguration.DefaultMaxOpenFiles);
    }

    // Pointers: mostly inside the one-page memory, sometimes at or past its end, sometimes huge.
    private static uint P(Random r) => r.Next(10) switch
    {
        0 => (uint)r.NextInt64(0, uint.MaxValue + 1L),
        1 => (uint)r.Next(65_500, 65_600),
        _ => (uint)r.Next(0, 65_536),
    };

    private static int Fd(Random r) => r.Next(10) == 0 ? r.Next() - (int.MaxValue / 2) : r.Next(-1, 12);

    private static int Small(Random r) => r.Next(10) == 0 ? r.Next() : r.Next(-1, 40);
}
