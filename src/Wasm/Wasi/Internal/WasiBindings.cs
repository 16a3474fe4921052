namespace Xmbl.Cluster.Wasm.Wasi.Internal;

/// <summary>Registers every <c>wasi_snapshot_preview1</c> function on a linker, adapting wasm values to
/// <see cref="WasiHost"/> calls and charging fuel for each call.</summary>
internal sealed class WasiBindings
{
    /// <summary>Fuel charged for every WASI call, on top of the guest's own instructions.</summary>
    public const long CallFuel = 100;

    /// <summary>One more unit of fuel per this many bytes a call moves (2^4 = 16).</summary>
    public const int BytesPerFuelShift = 4;

    private const WasmValueType I32 = WasmValueType.I32;
    private const WasmValueType I64 = WasmValueType.I64;

    private static readonly WasmValueType[] ErrnoResult = [I32];

    private readonly WasiHost _host;
    private Instance? _cachedInstance;
    private Memory? _cachedMemory;

    public WasiBindings(WasiHost host)
    {
        _host = host;
    }

    private delegate WasiErrno MemoryCall(WasiHost host, GuestMemory mem, ReadOnlySpan<WasmValue> a);

    private delegate WasiErrno PlainCall(WasiHost host, ReadOnlySpan<WasmValue> a);

    /// <summary>The names of all functions <see cref="Define"/> registers.</summary>
    public static IReadOnlyList<string> FunctionNames { get; } =
    [
        "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get", "clock_time_get",
        "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
        "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
        "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek",
        "fd_sync", "fd_tell", "fd_write", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
        "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
        "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept",
        "sock_recv", "sock_send", "sock_shutdown",
    ];

    public void Define(Linker linker, string module)
    {
        // Arguments arrive as signed wasm values; pointers and lengths are reinterpreted as unsigned.
        static uint U(in WasmValue v) => (uint)v.I32;
        static ulong U64(in WasmValue v) => (ulong)v.I64;

        Mem(linker, module, "args_get", [I32, I32], static (h, m, a) => h.ArgsGet(m, U(a[0]), U(a[1])));
        Mem(linker, module, "args_sizes_get", [I32, I32], static (h, m, a) => h.ArgsSizesGet(m, U(a[0]), U(a[1])));
        Mem(linker, module, "environ_get", [I32, I32], static (h, m, a) => h.EnvironGet(m, U(a[0]), U(a[1])));
        Mem(linker, module, "environ_sizes_get", [I32, I32], static (h, m, a) => h.EnvironSizesGet(m, U(a[0]), U(a[1])));
        Mem(linker, module, "clock_res_get", [I32, I32], static (h, m, a) => h.ClockResGet(m, a[0].I32, U(a[1])));
        Mem(linker, module, "clock_time_get", [I32, I64, I32], static (h, m, a) => h.ClockTimeGet(m, a[0].I32, U(a[2])));

        Plain(linker, module, "fd_advise", [I32, I64, I64, I32], static (h, a) => h.FdAdvise(a[0].I32, a[3].I32));
        Plain(linker, module, "fd_allocate", [I32, I64, I64], static (h, a) => h.FdAllocate(a[0].I32, U64(a[1]), U64(a[2])));
        Plain(linker, module, "fd_close", [I32], static (h, a) => h.FdClose(a[0].I32));
        Plain(linker, module, "fd_datasync", [I32], static (h, a) => h.FdSync(a[0].I32));
        Mem(linker, module, "fd_fdstat_get", [I32, I32], static (h, m, a) => h.FdFdstatGet(m, a[0].I32, U(a[1])));
        Plain(linker, module, "fd_fdstat_set_flags", [I32, I32], static (h, a) => h.FdFdstatSetFlags(a[0].I32, a[1].I32));
        Plain(linker, module, "fd_fdstat_set_rights", [I32, I64, I64], static (h, a) => h.FdFdstatSetRights(a[0].I32, U64(a[1]), U64(a[2])));
        Mem(linker, module, "fd_filestat_get", [I32, I32], static (h, m, a) => h.FdFilestatGet(m, a[0].I32, U(a[1])));
        Plain(linker, module, "fd_filestat_set_size", [I32, I64], static (h, a) => h.FdFilestatSetSize(a[0].I32, U64(a[1])));
        Plain(linker, module, "fd_filestat_set_times", [I32, I64, I64, I32], static (h, a) => h.FdFilestatSetTimes(a[0].I32));
        Mem(linker, module, "fd_pread", [I32, I32, I32, I64, I32], static (h, m, a) => h.FdPread(m, a[0].I32, U(a[1]), U(a[2]), U64(a[3]), U(a[4])));
        Mem(linker, module, "fd_prestat_get", [I32, I32], static (h, m, a) => h.FdPrestatGet(m, a[0].I32, U(a[1])));
        Mem(linker, module, "fd_prestat_dir_name", [I32, I32, I32], static (h, m, a) => h.FdPrestatDirName(m, a[0].I32, U(a[1]), U(a[2])));
        Mem(linker, module, "fd_pwrite", [I32, I32, I32, I64, I32], static (h, m, a) => h.FdPwrite(m, a[0].I32, U(a[1]), U(a[2]), U64(a[3]), U(a[4])));
        Mem(linker, module, "fd_read", [I32, I32, I32, I32], static (h, m, a) => h.FdRead(m, a[0].I32, U(a[1]), U(a[2]), U(a[3])));
        Mem(linker, module, "fd_readdir", [I32, I32, I32, I64, I32], static (h, m, a) => h.FdReaddir(m, a[0].I32, U(a[1]), U(a[2]), U64(a[3]), U(a[4])));
        Plain(linker, module, "fd_renumber", [I32, I32], static (h, a) => h.FdRenumber(a[0].I32, a[1].I32));
        Mem(linker, module, "fd_seek", [I32, I64, I32, I32], static (h, m, a) => h.FdSeek(m, a[0].I32, a[1].I64, a[2].I32, U(a[3])));
        Plain(linker, module, "fd_sync", [I32], static (h, a) => h.FdSync(a[0].I32));
        Mem(linker, module, "fd_tell", [I32, I32], static (h, m, a) => h.FdTell(m, a[0].I32, U(a[1])));
        Mem(linker, module, "fd_write", [I32, I32, I32, I32], static (h, m, a) => h.FdWrite(m, a[0].I32, U(a[1]), U(a[2]), U(a[3])));

        Mem(linker, module, "path_create_directory", [I32, I32, I32], static (h, m, a) => h.PathCreateDirectory(m, a[0].I32, U(a[1]), U(a[2])));
        Mem(linker, module, "path_filestat_get", [I32, I32, I32, I32, I32], static (h, m, a) => h.PathFilestatGet(m, a[0].I32, U(a[2]), U(a[3]), U(a[4])));
        Mem(linker, module, "path_filestat_set_times", [I32, I32, I32, I32, I64, I64, I32], static (h, m, a) => h.PathUnsupported(m, a[0].I32, U(a[2]), U(a[3])));
        Mem(linker, module, "path_link", [I32, I32, I32, I32, I32, I32, I32], static (h, m, a) => h.PathUnsupported(m, a[0].I32, U(a[2]), U(a[3])));
        Mem(linker, module, "path_open", [I32, I32, I32, I32, I32, I64, I64, I32, I32],
            static (h, m, a) => h.PathOpen(m, a[0].I32, U(a[2]), U(a[3]), a[4].I32, U64(a[5]), U64(a[6]), a[7].I32, U(a[8])));
        Mem(linker, module, "path_readlink", [I32, I32, I32, I32, I32, I32], static (h, m, a) => h.PathReadlink(m, a[0].I32, U(a[1]), U(a[2]), U(a[5])));
        Mem(linker, module, "path_remove_directory", [I32, I32, I32], static (h, m, a) => h.PathRemoveDirectory(m, a[0].I32, U(a[1]), U(a[2])));
        Mem(linker, module, "path_rename", [I32, I32, I32, I32, I32, I32], static (h, m, a) => h.PathRename(m, a[0].I32, U(a[1]), U(a[2]), a[3].I32, U(a[4]), U(a[5])));
        Mem(linker, module, "path_symlink", [I32, I32, I32, I32, I32], static (h, m, a) => h.PathUnsupported(m, a[2].I32, U(a[3]), U(a[4])));
        Mem(linker, module, "path_unlink_file", [I32, I32, I32], static (h, m, a) => h.PathUnlinkFile(m, a[0].I32, U(a[1]), U(a[2])));

        Mem(linker, module, "poll_oneoff", [I32, I32, I32, I32], static (h, m, a) => h.PollOneoff(m, U(a[0]), U(a[1]), U(a[2]), U(a[3])));
        linker.Define(module, "proc_exit", new FuncType([I32], []), (caller, args, _) =>
        {
            caller.Store.ConsumeFuel(CallFuel);
            throw new WasmExitException(args[0].I32);
        });
        Plain(linker, module, "proc_raise", [I32], static (_, _) => WasiErrno.NoSys);
        Plain(linker, module, "sched_yield", [], static (h, _) => h.SchedYield());
        Mem(linker, module, "random_get", [I32, I32], static (h, m, a) => h.RandomGet(m, U(a[0]), U(a[1])));

        // No sockets exist in this sandbox: a valid descriptor is simply not a socket.
        Plain(linker, module, "sock_accept", [I32, I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        Plain(linker, module, "sock_recv", [I32, I32, I32, I32, I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        Plain(linker, module, "sock_send", [I32, I32, I32, I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        Plain(linker, module, "sock_shutdown", [I32, I32], static (h, a) => h.NotASocket(a[0].I32));
    }

    private void Mem(Linker linker, string module, string name, WasmValueType[] parameters, MemoryCall call)
    {
        var host = _host;
        linker.Define(module, name, new FuncType(parameters, ErrnoResult), (caller, args, results) =>
        {
            caller.Store.ConsumeFuel(CallFuel);
            var memory = RequireMemory(caller, name);
            WasiErrno err;
            try
            {
                err = call(host, new GuestMemory(memory), args);
            }
            catch (WasiFaultException)
            {
                err = WasiErrno.Fault;
            }

            ChargeBytes(caller);
            results[0] = WasmValue.FromI32((int)err);
        });
    }

    private void Plain(Linker linker, string module, string name, WasmValueType[] parameters, PlainCall call)
    {
        var host = _host;
        linker.Define(module, name, new FuncType(parameters, ErrnoResult), (caller, args, results) =>
        {
            caller.Store.ConsumeFuel(CallFuel);
            var err = call(host, args);
            ChargeBytes(caller);
            results[0] = WasmValue.FromI32((int)err);
        });
    }

    private void ChargeBytes(Caller caller)
    {
        var bytes = _host.TakeTransferredBytes();
        if (bytes > 0)
        {
            caller.Store.ConsumeFuel(bytes >> BytesPerFuelShift);
        }
    }

    private Memory RequireMemory(Caller caller, string function)
    {
        var instance = caller.Instance;
        if (_cachedMemory is not null && ReferenceEquals(instance, _cachedInstance))
        {
            return _cachedMemory;
        }

        var memory = caller.GetMemory() ?? throw new WasmTrapException(
            TrapKind.HostError,
            $"WASI function {function} needs the module to export its linear memory as \"memory\"");
        _cachedInstance = instance;
        _cachedMemory = memory;
        return memory;
    }
}
