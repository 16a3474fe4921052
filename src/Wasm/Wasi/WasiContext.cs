using Xmbl.Cluster.Wasm.Wasi.Internal;

namespace Xmbl.Cluster.Wasm.Wasi;

/// <summary>
/// One guest's WASI preview1 environment (<c>wasi_snapshot_preview1</c>): define it on a linker, instantiate,
/// then run the command. Holds the descriptor table, so use one context per instance.
/// </summary>
/// <example>
/// <code>
/// var wasi = new WasiContext(new WasiConfiguration { Stdout = output }.AddArgument("prog"));
/// var linker = wasi.AddToLinker(new Linker(engine));
/// var instance = linker.Instantiate(store, module);
/// int exitCode = wasi.RunCommand(instance);
/// </code>
/// </example>
public sealed class WasiContext : IDisposable
{
    /// <summary>The import module name WASI preview1 functions live under.</summary>
    public const string ModuleName = "wasi_snapshot_preview1";

    /// <summary>Exit code reported when a command's <c>_start</c> returns normally.</summary>
    public const int SuccessExitCode = 0;

    private readonly WasiHost _host;
    private readonly WasiBindings _bindings;
    private bool _defined;

    /// <summary>Creates the environment.</summary>
    /// <param name="configuration">What the guest sees.</param>
    public WasiContext(WasiConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.MaxOpenFiles < 3 + configuration.Preopens.Count)
        {
            throw new ArgumentException("MaxOpenFiles must leave room for stdio and every preopen.", nameof(configuration));
        }

        Configuration = configuration;
        _host = new WasiHost(configuration);
        _bindings = new WasiBindings(_host);
    }

    /// <summary>Every function name defined under <see cref="ModuleName"/> (all of preview1).</summary>
    public static IReadOnlyList<string> FunctionNames => WasiBindings.FunctionNames;

    /// <summary>Every function under <see cref="ModuleName"/>, for engines that define them through <see cref="Call"/>.</summary>
    public static IReadOnlyList<WasiFunction> Functions => WasiBindings.Functions;

    /// <summary>The configuration this context was created with.</summary>
    public WasiConfiguration Configuration { get; }

    /// <summary>Descriptors currently open (stdio and preopens included).</summary>
    public int OpenDescriptorCount => _host.OpenDescriptorCount;

    /// <summary>Defines all <c>wasi_snapshot_preview1</c> functions on <paramref name="linker"/>.</summary>
    /// <param name="linker">The linker to define them on (each context can be added to one linker).</param>
    /// <returns>The linker, for chaining.</returns>
    public Linker AddToLinker(Linker linker)
    {
        ArgumentNullException.ThrowIfNull(linker);
        if (_defined)
        {
            throw new InvalidOperationException("This WASI context is already defined on a linker; create one context per instance.");
        }

        _bindings.Define(linker, ModuleName);
        _defined = true;
        return linker;
    }

    /// <summary>Runs one WASI function for a guest of any engine (the functions <see cref="AddToLinker"/> defines call this too).</summary>
    /// <param name="function">The function's <see cref="WasiFunction.Index"/>.</param>
    /// <param name="caller">The engine's view of the calling guest.</param>
    /// <param name="args">The arguments, typed as in <see cref="WasiFunction.Type"/>.</param>
    /// <param name="results">Receives the errno (one i32); <c>proc_exit</c> has none.</param>
    /// <exception cref="WasmExitException">The guest called <c>proc_exit</c>.</exception>
    /// <exception cref="WasmTrapException">The guest exports no memory, or ran out of fuel.</exception>
    public void Call(int function, IWasiCaller caller, ReadOnlySpan<WasmValue> args, Span<WasmValue> results)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentOutOfRangeException.ThrowIfNegative(function);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(function, WasiBindings.Functions.Count);
        _bindings.Call(function, caller, args, results);
    }

    /// <summary>Flushes stdout and stderr (what <see cref="RunCommand"/> does when <c>_start</c> ends), for engines
    /// that run the command themselves.</summary>
    public void Flush() => FlushOutputs();

    /// <summary>Runs a WASI command: calls its <c>_start</c> export and maps <c>proc_exit</c> to an exit code.</summary>
    /// <param name="instance">An instance created through a linker this context was added to.</param>
    /// <returns>The exit code: 0 when <c>_start</c> returns, otherwise the code passed to <c>proc_exit</c>.</returns>
    /// <exception cref="WasmTrapException">The guest trapped (including running out of fuel or time).</exception>
    /// <exception cref="InvalidOperationException">The module has no <c>_start</c> export of type <c>() → ()</c>.</exception>
    public int RunCommand(Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var start = instance.GetFunction("_start")
            ?? throw new InvalidOperationException("The module exports no _start function, so it is not a WASI command.");
        if (start.Type.Parameters.Count != 0 || start.Type.Results.Count != 0)
        {
            throw new InvalidOperationException("The module's _start export must take and return nothing.");
        }

        try
        {
            start.Invoke([]);
            return SuccessExitCode;
        }
        catch (WasmExitException exit)
        {
            return exit.ExitCode;
        }
        finally
        {
            FlushOutputs();
        }
    }

    /// <summary>Initializes a WASI reactor (a library-style module) by calling its <c>_initialize</c> export, if any.</summary>
    /// <param name="instance">An instance created through a linker this context was added to.</param>
    /// <returns>Whether the module had an <c>_initialize</c> export.</returns>
    /// <exception cref="WasmExitException">The initializer called <c>proc_exit</c>.</exception>
    public bool InitializeReactor(Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.GetFunction("_initialize") is not { } initialize)
        {
            return false;
        }

        try
        {
            initialize.Invoke([]);
        }
        finally
        {
            FlushOutputs();
        }

        return true;
    }

    /// <summary>Closes every descriptor the guest left open (host streams in the configuration stay open).</summary>
    public void Dispose() => _host.CloseAll();

    private void FlushOutputs()
    {
        foreach (var stream in new[] { Configuration.Stdout, Configuration.Stderr })
        {
            try
            {
                stream?.Flush();
            }
            catch (IOException)
            {
                // The reader went away (closed pipe); the guest's result stands.
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
