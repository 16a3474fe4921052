using System.Text;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Engines.Managed;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Wasm.Wasmtime.Tests;

/// <summary>What a run produced, as the differential tests compare it.</summary>
internal sealed record EngineRun(WasmRunEnd End, int ExitCode, TrapKind? Trap, string Stdout, string Stderr, long Fuel, string? Message, Exception? HostException)
{
    /// <summary>Everything but fuel and the message: what must be equal on both engines.</summary>
    public string Observable => $"{End} exit={ExitCode} trap={Trap?.ToString() ?? "-"} stdout=[{Stdout}] stderr=[{Stderr}]";
}

/// <summary>One engine of each kind for the whole test run, and a way to run a module on one.</summary>
internal static class EngineHarness
{
    public static IWasmEngine Managed { get; } = new ManagedWasmEngine();

    public static IWasmEngine Wasmtime { get; } = new WasmtimeEngine();

    public static IWasmEngine[] Both => [Managed, Wasmtime];

    public static string RepositoryRoot { get; } = FindRoot();

    public static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(RepositoryRoot, "tests", "fixtures", "wasm", name + ".wasm"));

    public static byte[] BenchmarkProgram(string name) => File.ReadAllBytes(Path.Combine(RepositoryRoot, "bench", "programs", "wasm", name + ".wasm"));

    public static EngineRun Run(
        IWasmEngine engine,
        byte[] wasm,
        string[]? args = null,
        string stdin = "",
        StoreLimits? limits = null,
        Action<WasiConfiguration>? configure = null,
        string? export = null,
        WasmValue[]? arguments = null,
        IReadOnlyList<WasmHostFunction>? hostFunctions = null,
        Stream? stdout = null)
    {
        var module = engine.Compile(wasm);
        var output = stdout ?? new MemoryStream();
        var errors = new MemoryStream();
        var config = new WasiConfiguration { Stdin = new MemoryStream(Encoding.UTF8.GetBytes(stdin)), Stdout = output, Stderr = errors }
            .MakeDeterministic(42)
            .AddArgument("prog");
        foreach (var arg in args ?? [])
        {
            config.AddArgument(arg);
        }

        configure?.Invoke(config);
        var result = engine.Run(module, new WasmRunRequest
        {
            Export = export,
            Arguments = arguments ?? [],
            Wasi = config,
            Limits = limits ?? new StoreLimitsBuilder().Fuel(2_000_000_000).MemoryPages(1024).WallClock(TimeSpan.FromSeconds(60)).Build(),
            HostFunctions = hostFunctions ?? [],
        });
        var text = output is MemoryStream memory ? Encoding.UTF8.GetString(memory.ToArray()) : string.Empty;
        return new EngineRun(result.End, result.ExitCode, result.Trap, text, Encoding.UTF8.GetString(errors.ToArray()), result.FuelConsumed, result.Message, result.HostException);
    }

    /// <summary>The in-memory directory <c>files.wasm</c> expects.</summary>
    public static void PreopenFiles(WasiConfiguration config) =>
        config.AddPreopen(".", new InMemoryWasiFileSystem().AddFile("input.txt", "hello files\nsecond line\n"u8).AddDirectory("empty"));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Xmbl.Cluster.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Xmbl.Cluster.sln not found above " + AppContext.BaseDirectory);
    }
}
