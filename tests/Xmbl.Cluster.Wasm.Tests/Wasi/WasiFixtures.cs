using Xmbl.Cluster.Wasm.Wasi;

namespace Xmbl.Cluster.Wasm.Tests.Wasi;

/// <summary>The result of running a WASI program to completion.</summary>
internal sealed record WasiRun(int ExitCode, byte[] Stdout, byte[] Stderr, long Fuel)
{
    public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);

    public string StderrText => System.Text.Encoding.UTF8.GetString(Stderr);
}

/// <summary>Locates the committed fixture programs (tests/fixtures/wasm) and runs them through the engine.</summary>
internal static class WasiFixtures
{
    private static readonly Lazy<string> Directory = new(FindDirectory);

    /// <summary>One engine for the whole test run: compiled modules are cached by hash.</summary>
    public static WasmEngine Engine { get; } = new();

    public static string PathOf(string name) => Path.Combine(Directory.Value, name + ".wasm");

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    public static string RepositoryRoot => Path.GetFullPath(Path.Combine(Directory.Value, "..", "..", ".."));

    /// <summary>Runs a fixture as a command. <paramref name="configure"/> adjusts the configuration (stdout/stderr
    /// are captured; args[0] is the fixture name).</summary>
    public static WasiRun Run(
        string name,
        Action<WasiConfiguration>? configure = null,
        StoreLimits? limits = null,
        params string[] args)
    {
        var module = Engine.Compile(Bytes(name));
        return Run(module, name, configure, limits, args);
    }

    public static WasiRun Run(
        CompiledModule module,
        string programName,
        Action<WasiConfiguration>? configure,
        StoreLimits? limits,
        params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var config = new WasiConfiguration { Stdout = stdout, Stderr = stderr };
        config.AddArgument(programName);
        foreach (var arg in args)
        {
            config.AddArgument(arg);
        }

        configure?.Invoke(config);
        var store = new Store(Engine, limits);
        using var wasi = new WasiContext(config);
        var instance = wasi.AddToLinker(new Linker(Engine)).Instantiate(store, module);
        var code = wasi.RunCommand(instance);
        return new WasiRun(code, stdout.ToArray(), stderr.ToArray(), store.FuelConsumed);
    }

    private static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "wasm");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures/wasm not found above " + AppContext.BaseDirectory);
    }
}
