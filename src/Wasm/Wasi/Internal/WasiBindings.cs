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

    private static readonly WasiBinding[] Table = BuildTable();

    private readonly WasiHost _host;
    private readonly ManagedCaller _managedCaller = new();

    public WasiBindings(WasiHost host)
    {
        _host = host;
    }

    private delegate WasiErrno MemoryCall(WasiHost host, GuestMemory mem, ReadOnlySpan<WasmValue> a);

    private delegate WasiErrno PlainCall(WasiHost host, ReadOnlySpan<WasmValue> a);

    /// <summary>Every <c>wasi_snapshot_preview1</c> function, by index.</summary>
    public static IReadOnlyList<WasiFunction> Functions { get; } = [.. Table.Select((b, i) => new WasiFunction(i, b.Name, b.Type))];

    /// <summary>The names of all functions <see cref="Define"/> registers.</summary>
    public static IReadOnlyList<string> FunctionNames { get; } = [.. Table.Select(b => b.Name)];

    /// <summary>Defines every function on our engine's linker, each calling <see cref="Call"/>.</summary>
    public void Define(Linker linker, string module)
    {
        for (var i = 0; i < Table.Length; i++)
        {
            var index = i;
            linker.Define(module, Table[i].Name, Table[i].Type, (caller, args, results) =>
            {
                _managedCaller.Caller = caller;
                Call(index, _managedCaller, args, results);
            });
        }
    }

    /// <summary>Runs one WASI function for any engine: charges its fuel, reads and writes guest memory, sets the errno.</summary>
    /// <exception cref="WasmExitException">The function was <c>proc_exit</c>.</exception>
    /// <exception cref="WasmTrapException">No exported memory, or out of fuel (from <see cref="IWasiCaller.ConsumeFuel"/>).</exception>
    public void Call(int index, IWasiCaller caller, ReadOnlySpan<WasmValue> args, Span<WasmValue> results)
    {
        var binding = Table[index];
        caller.ConsumeFuel(CallFuel);
        if (binding.Exit)
        {
            throw new WasmExitException(args[0].I32);
        }

        WasiErrno err;
        if (binding.Plain is { } plain)
        {
            err = plain(_host, args);
        }
        else
        {
            if (!caller.TryGetMemory(out var baseAddress, out var length))
            {
                throw new WasmTrapException(
                    TrapKind.HostError,
                    $"WASI function {binding.Name} needs the module to export its linear memory as \"memory\"");
            }

            try
            {
                err = binding.Memory!(_host, new GuestMemory(baseAddress, length), args);
            }
            catch (WasiFaultException)
            {
                err = WasiErrno.Fault;
            }
        }

        var bytes = _host.TakeTransferredBytes();
        if (bytes > 0)
        {
            caller.ConsumeFuel(bytes >> BytesPerFuelShift);
        }

        results[0] = WasmValue.FromI32((int)err);
    }

    private static WasiBinding[] BuildTable()
    {
        var table = new List<WasiBinding>();
        // Arguments arrive as signed wasm values; pointers and lengths are reinterpreted as unsigned.
        static uint U(in WasmValue v) => (uint)v.I32;
        static ulong U64(in WasmValue v) => (ulong)v.I64;

        Mem(table, "args_get", [I32, I32], static (h, m, a) => h.ArgsGet(m, U(a[0]), U(a[1])));
        Mem(table, "args_sizes_get", [I32, I32], static (h, m, a) => h.ArgsSizesGet(m, U(a[0]), U(a[1])));
        Mem(table, "environ_get", [I32, I32], static (h, m, a) => h.EnvironGet(m, U(a[0]), U(a[1])));
        Mem(table, "environ_sizes_get", [I32, I32], static (h, m, a) => h.EnvironSizesGet(m, U(a[0]), U(a[1])));
        Mem(table, "clock_res_get", [I32, I32], static (h, m, a) => h.ClockResGet(m, a[0].I32, U(a[1])));
        Mem(table, "clock_time_get", [I32, I64, I32], static (h, m, a) => h.ClockTimeGet(m, a[0].I32, U(a[2])));

        Plain(table, "fd_advise", [I32, I64, I64, I32], static (h, a) => h.FdAdvise(a[0].I32, a[3].I32));
        Plain(table, "fd_allocate", [I32, I64, I64], static (h, a) => h.FdAllocate(a[0].I32, U64(a[1]), U64(a[2])));
        Plain(table, "fd_close", [I32], static (h, a) => h.FdClose(a[0].I32));
        Plain(table, "fd_datasync", [I32], static (h, a) => h.FdSync(a[0].I32));
        Mem(table, "fd_fdstat_get", [I32, I32], static (h, m, a) => h.FdFdstatGet(m, a[0].I32, U(a[1])));
        Plain(table, "fd_fdstat_set_flags", [I32, I32], static (h, a) => h.FdFdstatSetFlags(a[0].I32, a[1].I32));
        Plain(table, "fd_fdstat_set_rights", [I32, I64, I64], static (h, a) => h.FdFdstatSetRights(a[0].I32, U64(a[1]), U64(a[2])));
        Mem(table, "fd_filestat_get", [I32, I32], static (h, m, a) => h.FdFilestatGet(m, a[0].I32, U(a[1])));
        Plain(table, "fd_filestat_set_size", [I32, I64], static (h, a) => h.FdFilestatSetSize(a[0].I32, U64(a[1])));
        Plain(table, "fd_filestat_set_times", [I32, I64, I64, I32], static (h, a) => h.FdFilestatSetTimes(a[0].I32));
        Mem(table, "fd_pread", [I32, I32, I32, I64, I32], static (h, m, a) => h.FdPread(m, a[0].I32, U(a[1]), U(a[2]), U64(a[3]), U(a[4])));
        Mem(table, "fd_prestat_get", [I32, I32], static (h, m, a) => h.FdPrestatGet(m, a[0].I32, U(a[1])));
        Mem(table, "fd_prestat_dir_name", [I32, I32, I32], static (h, m, a) => h.FdPrestatDirName(m, a[0].I32, U(a[1]), U(a[2])));
        Mem(table, "fd_pwrite", [I32, I32, I32, I64, I32], static (h, m, a) => h.FdPwrite(m, a[0].I32, U(a[1]), U(a[2]), U64(a[3]), U(a[4])));
        Mem(table, "fd_read", [I32, I32, I32, I32], static (h, m, a) => h.FdRead(m, a[0].I32, U(a[1]), U(a[2]), U(a[3])));
        Mem(table, "fd_readdir", [I32, I32, I32, I64, I32], static (h, m, a) => h.FdReaddir(m, a[0].I32, U(a[1]), U(a[2]), U64(a[3]), U(a[4])));
        Plain(table, "fd_renumber", [I32, I32], static (h, a) => h.FdRenumber(a[0].I32, a[1].I32));
        Mem(table, "fd_seek", [I32, I64, I32, I32], static (h, m, a) => h.FdSeek(m, a[0].I32, a[1].I64, a[2].I32, U(a[3])));
        Plain(table, "fd_sync", [I32], static (h, a) => h.FdSync(a[0].I32));
        Mem(table, "fd_tell", [I32, I32], static (h, m, a) => h.FdTell(m, a[0].I32, U(a[1])));
        Mem(table, "fd_write", [I32, I32, I32, I32], static (h, m, a) => h.FdWrite(m, a[0].I32, U(a[1]), U(a[2]), U(a[3])));

        Mem(table, "path_create_directory", [I32, I32, I32], static (h, m, a) => h.PathCreateDirectory(m, a[0].I32, U(a[1]), U(a[2])));
        Mem(table, "path_filestat_get", [I32, I32, I32, I32, I32], static (h, m, a) => h.PathFilestatGet(m, a[0].I32, U(a[2]), U(a[3]), U(a[4])));
        Mem(table, "path_filestat_set_times", [I32, I32, I32, I32, I64, I64, I32], static (h, m, a) => h.PathUnsupported(m, a[0].I32, U(a[2]), U(a[3])));
        Mem(table, "path_link", [I32, I32, I32, I32, I32, I32, I32], static (h, m, a) => h.PathUnsupported(m, a[0].I32, U(a[2]), U(a[3])));
        Mem(table, "path_open", [I32, I32, I32, I32, I32, I64, I64, I32, I32],
            static (h, m, a) => h.PathOpen(m, a[0].I32, U(a[2]), U(a[3]), a[4].I32, U64(a[5]), U64(a[6]), a[7].I32, U(a[8])));
        Mem(table, "path_readlink", [I32, I32, I32, I32, I32, I32], static (h, m, a) => h.PathReadlink(m, a[0].I32, U(a[1]), U(a[2]), U(a[5])));
        Mem(table, "path_remove_directory", [I32, I32, I32], static (h, m, a) => h.PathRemoveDirectory(m, a[0].I32, U(a[1]), U(a[2])));
        Mem(table, "path_rename", [I32, I32, I32, I32, I32, I32], static (h, m, a) => h.PathRename(m, a[0].I32, U(a[1]), U(a[2]), a[3].I32, U(a[4]), U(a[5])));
        Mem(table, "path_symlink", [I32, I32, I32, I32, I32], static (h, m, a) => h.PathUnsupported(m, a[2].I32, U(a[3]), U(a[4])));
        Mem(table, "path_unlink_file", [I32, I32, I32], static (h, m, a) => h.PathUnlinkFile(m, a[0].I32, U(a[1]), U(a[2])));

        Mem(table, "poll_oneoff", [I32, I32, I32, I32], static (h, m, a) => h.PollOneoff(m, U(a[0]), U(a[1]), U(a[2]), U(a[3])));
        table.Add(new WasiBinding("proc_exit", new FuncType([I32], []), null, null, Exit: true));
        Plain(table, "proc_raise", [I32], static (_, _) => WasiErrno.NoSys);
        Plain(table, "sched_yield", [], static (h, _) => h.SchedYield());
        Mem(table, "random_get", [I32, I32], static (h, m, a) => h.RandomGet(m, U(a[0]), U(a[1])));

        // No sockets exist in this sandbox: a valid descriptor is simply not a socket.
        Plain(table, "sock_accept", [I32, I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        Plain(table, "sock_recv", [I32, I32, I32, I32, I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        Plain(table, "sock_send", [I32, I32, I32, I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        Plain(table, "sock_shutdown", [I32, I32], static (h, a) => h.NotASocket(a[0].I32));
        return [.. table];
    }

    private static void Mem(List<WasiBinding> table, string name, WasmValueType[] parameters, MemoryCall call) =>
        table.Add(new WasiBinding(name, new FuncType(parameters, ErrnoResult), call, null, Exit: false));

    private static void Plain(List<WasiBinding> table, string name, WasmValueType[] parameters, PlainCall call) =>
        table.Add(new WasiBinding(name, new FuncType(parameters, ErrnoResult), null, call, Exit: false));

    private sealed record WasiBinding(string Name, FuncType Type, MemoryCall? Memory, PlainCall? Plain, bool Exit);

    /// <summary>Our engine's caller as an <see cref="IWasiCaller"/>; one per context, reused for every call.</summary>
    private sealed class ManagedCaller : IWasiCaller
    {
        private Instance? _cachedInstance;
        private Memory? _cachedMemory;

        public Caller? Caller { get; set; }

        public bool TryGetMemory(out nint baseAddress, out ulong length)
        {
            var instance = Caller!.Instance;
            if (_cachedMemory is null || !ReferenceEquals(instance, _cachedInstance))
            {
                _cachedMemory = Caller.GetMemory();
                _cachedInstance = instance;
            }

            baseAddress = _cachedMemory?.BaseAddress ?? 0;
            length = _cachedMemory?.ByteLength ?? 0;
            return _cachedMemory is not null;
        }

        public void ConsumeFuel(long units) => Caller!.Store.ConsumeFuel(units);
    }
}
