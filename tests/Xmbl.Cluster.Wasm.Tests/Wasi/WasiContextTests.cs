using System.Text;
using Xmbl.Cluster.Wasm.Tests.Execution;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Tests.Wasi;

[Trait("Suite", "Functional")]
public sealed class WasiContextTests
{
    [Fact]
    public void RunCommand_HelloWorld_WritesStdoutAndReturnsZero()
    {
        var run = WasiFixtures.Run("hello");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Hello, world!\n", run.StdoutText);
        Assert.Empty(run.Stderr);
        Assert.True(run.Fuel > 0);
    }

    [Fact]
    public void RunCommand_Echo_CopiesStdinToStdoutByteForByte()
    {
        var input = new byte[100_000];
        new Random(42).NextBytes(input);

        var run = WasiFixtures.Run("echo", c => c.Stdin = new MemoryStream(input));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(input, run.Stdout);
        Assert.Equal("echoed 100000 bytes\n", run.StderrText);
    }

    [Fact]
    public void RunCommand_NoStdin_ReadsEndOfFile()
    {
        var run = WasiFixtures.Run("echo");

        Assert.Empty(run.Stdout);
        Assert.Equal("echoed 0 bytes\n", run.StderrText);
    }

    [Fact]
    public void RunCommand_ArgsAndEnvironment_AreVisibleInOrder()
    {
        var run = WasiFixtures.Run(
            "args_env",
            c => c.AddEnvironment("GREETING", "héllo wörld").AddEnvironment("EMPTY", string.Empty),
            null,
            "one", "two words", "ünïcode");

        Assert.Equal(
            "argc=4\nargv[0]=args_env\nargv[1]=one\nargv[2]=two words\nargv[3]=ünïcode\n" +
            "env GREETING=héllo wörld\nenv EMPTY=\nGREETING=héllo wörld\n",
            run.StdoutText);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(255)]
    public void RunCommand_ExitCalled_ReturnsTheCodeAfterFlushingStdout(int code)
    {
        var run = WasiFixtures.Run("exit_code", null, null, code.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(code, run.ExitCode);
        Assert.Equal($"exiting with {code}\n", run.StdoutText);
    }

    [Fact]
    public void RunCommand_FilesInMemoryPreopen_ReadsWritesListsAndRefusesEscape()
    {
        var fs = new InMemoryWasiFileSystem().AddFile("input.txt", "hello files\n"u8);

        var run = WasiFixtures.Run("files", c => c.AddPreopen(".", fs));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            "read 12 bytes\nsize by seek 21, tail 'APPENDED'\nstat size 21 regular 1\n" +
            "out: empty final.txt scratch.tmp\nmissing: ENOENT\nescape refused: yes\n",
            run.StdoutText);
        Assert.True(fs.TryReadFile("out/final.txt", out var final));
        Assert.Equal("HELLO FILES\nAPPENDED\n", Encoding.UTF8.GetString(final));
        Assert.Equal(["input.txt", "out/final.txt"], fs.ListFiles());
    }

    [Fact]
    public void RunCommand_FilesHostDirectoryPreopen_ChangesTheHostDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("xmbl-wasi-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "input.txt"), "hello files\n");

            var run = WasiFixtures.Run("files", c => c.AddPreopen(".", new HostDirectoryWasiFileSystem(dir.FullName)));

            Assert.Equal(0, run.ExitCode);
            Assert.Contains("out: empty final.txt scratch.tmp\n", run.StdoutText, StringComparison.Ordinal);
            Assert.Equal("HELLO FILES\nAPPENDED\n", File.ReadAllText(Path.Combine(dir.FullName, "out", "final.txt")));
            Assert.False(File.Exists(Path.Combine(dir.FullName, "out", "scratch.tmp")));
            Assert.False(Directory.Exists(Path.Combine(dir.FullName, "out", "empty")));
            Assert.False(File.Exists(Path.Combine(dir.Parent!.FullName, "escape.txt")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void RunCommand_FilesWithoutPreopen_FailsToOpenInput()
    {
        var run = WasiFixtures.Run("files");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("FAIL open input.txt", run.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public void RunCommand_SameSeed_GivesIdenticalOutputAndFuel()
    {
        var first = WasiFixtures.Run("clock_random", c => c.MakeDeterministic(1234));
        var second = WasiFixtures.Run("clock_random", c => c.MakeDeterministic(1234));

        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Equal(first.Fuel, second.Fuel);
        Assert.Contains("realtime 1704067200.", first.StdoutText, StringComparison.Ordinal);
        Assert.Contains("slept_at_least_10ms 1\n", first.StdoutText, StringComparison.Ordinal);
        Assert.Contains("resolution_ns 1000\n", first.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public void RunCommand_DifferentSeeds_GiveDifferentRandomBytes()
    {
        var a = RandomLine(WasiFixtures.Run("clock_random", c => c.MakeDeterministic(1)));
        var b = RandomLine(WasiFixtures.Run("clock_random", c => c.MakeDeterministic(2)));

        Assert.NotEqual(a, b);
        Assert.Matches("^random [0-9a-f]{32}$", a);
    }

    [Fact]
    public void RunCommand_HostClock_SleepsForReal()
    {
        var before = DateTimeOffset.UtcNow;
        var run = WasiFixtures.Run("clock_random");

        Assert.Contains("slept_at_least_10ms 1\n", run.StdoutText, StringComparison.Ordinal);
        var realtime = run.StdoutText.Split('\n')[0];
        var seconds = long.Parse(realtime["realtime ".Length..realtime.IndexOf('.', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, before.ToUnixTimeSeconds() - 1, before.ToUnixTimeSeconds() + 600);
    }

    [Fact]
    public void RunCommand_Abort_ThrowsUnreachableTrapAfterFlushedOutput()
    {
        var stdout = new MemoryStream();
        var trap = Assert.Throws<WasmTrapException>(() => WasiFixtures.Run("trap", c => c.Stdout = stdout));

        Assert.Equal(TrapKind.Unreachable, trap.Kind);
        Assert.Equal("about to trap\n", Encoding.UTF8.GetString(stdout.ToArray()));
    }

    [Fact]
    public void InitializeReactor_ExportsModule_CallsInitializeThenExportsWork()
    {
        var module = WasiFixtures.Engine.Compile(WasiFixtures.Bytes("exports"));
        using var wasi = new WasiContext(new WasiConfiguration());
        var instance = wasi.AddToLinker(new Linker(WasiFixtures.Engine)).Instantiate(new Store(WasiFixtures.Engine), module);

        Assert.True(wasi.InitializeReactor(instance));
        Assert.Equal(7, instance.GetFunction("add")!.Invoke(WasmValue.FromI32(3), WasmValue.FromI32(4))[0].I32);
        Assert.Equal(3628800L, instance.GetFunction("fact")!.Invoke(WasmValue.FromI64(10))[0].I64);
        Assert.Throws<InvalidOperationException>(() => wasi.RunCommand(instance));
    }

    [Fact]
    public void AddToLinker_ModuleImportingEveryPreview1Function_Links()
    {
        var module = new TestModule();
        foreach (var (name, parameters, results) in Preview1Signatures())
        {
            module.ImportFunction(WasiContext.ModuleName, name, parameters, results);
        }

        module.Memory(1);
        module.ExportKind("memory", 0x02, 0);
        var compiled = WasiFixtures.Engine.Compile(module.Build());
        using var wasi = new WasiContext(new WasiConfiguration());

        var instance = wasi.AddToLinker(new Linker(WasiFixtures.Engine)).Instantiate(new Store(WasiFixtures.Engine), compiled);

        Assert.NotNull(instance);
        Assert.Equal(Preview1Signatures().Select(s => s.Name).Order(StringComparer.Ordinal), WasiContext.FunctionNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddToLinker_SecondTime_Throws()
    {
        using var wasi = new WasiContext(new WasiConfiguration());
        wasi.AddToLinker(new Linker(WasiFixtures.Engine));

        Assert.Throws<InvalidOperationException>(() => wasi.AddToLinker(new Linker(WasiFixtures.Engine)));
    }

    [Fact]
    public void WasiCall_ModuleWithoutMemoryExport_TrapsWithHostError()
    {
        var module = new TestModule();
        var fdWrite = module.ImportFunction(WasiContext.ModuleName, "fd_write", [WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32], [WasmValueType.I32]);
        var start = module.Function([], [], new Code().I32Const(1).I32Const(0).I32Const(0).I32Const(0).Call(fdWrite).Drop());
        module.Export("_start", start);
        var compiled = WasiFixtures.Engine.Compile(module.Build());
        using var wasi = new WasiContext(new WasiConfiguration());
        var instance = wasi.AddToLinker(new Linker(WasiFixtures.Engine)).Instantiate(new Store(WasiFixtures.Engine), compiled);

        var trap = Assert.Throws<WasmTrapException>(() => wasi.RunCommand(instance));

        Assert.Equal(TrapKind.HostError, trap.Kind);
        Assert.Contains("memory", trap.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WasiCall_ChargesFuel_SoAFuelLimitStopsAWriteLoop()
    {
        // _start: loop { fd_write(1, iov@0, 1, nwritten@16) } with an empty iovec, forever.
        var module = new TestModule();
        var fdWrite = module.ImportFunction(WasiContext.ModuleName, "fd_write", [WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32], [WasmValueType.I32]);
        module.Memory(1);
        module.ExportKind("memory", 0x02, 0);
        var body = new Code().Loop().I32Const(1).I32Const(0).I32Const(1).I32Const(16).Call(fdWrite).Drop().Br(0).End();
        module.Export("_start", module.Function([], [], body));
        var compiled = WasiFixtures.Engine.Compile(module.Build());
        using var wasi = new WasiContext(new WasiConfiguration());
        var store = new Store(WasiFixtures.Engine, new StoreLimitsBuilder().Fuel(100_000).Build());
        var instance = wasi.AddToLinker(new Linker(WasiFixtures.Engine)).Instantiate(store, compiled);

        var trap = Assert.Throws<WasmTrapException>(() => wasi.RunCommand(instance));

        Assert.Equal(TrapKind.OutOfFuel, trap.Kind);
    }

    private static string RandomLine(WasiRun run) =>
        run.StdoutText.Split('\n').Single(l => l.StartsWith("random ", StringComparison.Ordinal));

    /// <summary>The wasm signatures of all of preview1 (PROTOCOL-NOTES §2.3).</summary>
    private static IEnumerable<(string Name, WasmValueType[] Params, WasmValueType[] Results)> Preview1Signatures()
    {
        const WasmValueType I = WasmValueType.I32;
        const WasmValueType L = WasmValueType.I64;
        WasmValueType[] errno = [I];
        return
        [
            ("args_get", [I, I], errno), ("args_sizes_get", [I, I], errno), ("environ_get", [I, I], errno),
            ("environ_sizes_get", [I, I], errno), ("clock_res_get", [I, I], errno), ("clock_time_get", [I, L, I], errno),
            ("fd_advise", [I, L, L, I], errno), ("fd_allocate", [I, L, L], errno), ("fd_close", [I], errno),
            ("fd_datasync", [I], errno), ("fd_fdstat_get", [I, I], errno), ("fd_fdstat_set_flags", [I, I], errno),
            ("fd_fdstat_set_rights", [I, L, L], errno), ("fd_filestat_get", [I, I], errno),
            ("fd_filestat_set_size", [I, L], errno), ("fd_filestat_set_times", [I, L, L, I], errno),
            ("fd_pread", [I, I, I, L, I], errno), ("fd_prestat_get", [I, I], errno),
            ("fd_prestat_dir_name", [I, I, I], errno), ("fd_pwrite", [I, I, I, L, I], errno),
            ("fd_read", [I, I, I, I], errno), ("fd_readdir", [I, I, I, L, I], errno), ("fd_renumber", [I, I], errno),
            ("fd_seek", [I, L, I, I], errno), ("fd_sync", [I], errno), ("fd_tell", [I, I], errno),
            ("fd_write", [I, I, I, I], errno), ("path_create_directory", [I, I, I], errno),
            ("path_filestat_get", [I, I, I, I, I], errno), ("path_filestat_set_times", [I, I, I, I, L, L, I], errno),
            ("path_link", [I, I, I, I, I, I, I], errno), ("path_open", [I, I, I, I, I, L, L, I, I], errno),
            ("path_readlink", [I, I, I, I, I, I], errno), ("path_remove_directory", [I, I, I], errno),
            ("path_rename", [I, I, I, I, I, I], errno), ("path_symlink", [I, I, I, I, I], errno),
            ("path_unlink_file", [I, I, I], errno), ("poll_oneoff", [I, I, I, I], errno), ("proc_exit", [I], []),
            ("proc_raise", [I], errno), ("sched_yield", [], errno), ("random_get", [I, I], errno),
            ("sock_accept", [I, I, I], errno), ("sock_recv", [I, I, I, I, I, I], errno),
            ("sock_send", [I, I, I, I, I], errno), ("sock_shutdown", [I, I], errno),
        ];
    }
}
