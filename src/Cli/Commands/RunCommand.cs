using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Xmbl.Cluster.Cli.Internal;
using Xmbl.Cluster.Wasm;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary><c>xmbl run FILE.wasm [-- ARGS...]</c>: runs a WASI program locally, like <c>wasmtime run</c>.</summary>
/// <remarks>
/// stdin, stdout and stderr pass through; the program's exit code becomes xmbl's. The guest sees only what is
/// passed explicitly: its arguments, <c>--env</c> variables and <c>--dir</c> directories. A trap prints
/// <c>error: wasm trap: ...</c> on stderr and exits with <see cref="CliExitCodes.Trap"/>.
/// </remarks>
public static class RunCommand
{
    /// <summary>Creates the <c>run</c> command.</summary>
    /// <param name="console">The streams the guest and the command use.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var file = new Argument<FileInfo>("file") { Description = "The WebAssembly module (.wasm) to run." };
        var programArgs = new Argument<string[]>("args")
        {
            Description = "Arguments for the program (argv[1..]); put them after '--' if they start with '-'. " +
                "With --invoke: the function's arguments.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var fuel = new Option<long?>("--fuel")
        {
            Description = "Fuel budget (≈ instructions); the program traps when it runs out.",
            HelpName = "N",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var units))
                {
                    return units;
                }

                r.AddError($"--fuel: '{text}' is not a whole number of fuel units (0 or more).");
                return null;
            },
        };
        var maxMemory = new Option<string?>("--max-memory")
        {
            Description = "Largest linear memory: bytes with a suffix (256MiB, 1GiB) or pages (4096pages). Default 1GiB.",
            HelpName = "SIZE",
        };
        var timeout = new Option<string?>("--timeout")
        {
            Description = "Wall-clock budget (500ms, 10s, 2m); the program traps when it is exceeded.",
            HelpName = "DURATION",
        };
        var seed = new Option<ulong?>("--seed")
        {
            Description = "Run deterministically: clocks are virtual and random_get is seeded with this value.",
            HelpName = "N",
        };
        var dirs = new Option<string[]>("--dir")
        {
            Description = "Preopen a host directory: HOST, or HOST::GUEST to name it GUEST in the program. Repeatable.",
            HelpName = "HOST[::GUEST]",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var env = new Option<string[]>("--env", "-e")
        {
            Description = "Set an environment variable for the program (KEY=VALUE). Repeatable. The host's environment is not passed.",
            HelpName = "KEY=VALUE",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var invoke = new Option<string?>("--invoke")
        {
            Description = "Call this exported function instead of _start (after _initialize, if exported) and print its results.",
            HelpName = "NAME",
        };
        var engine = new Option<string>("--engine")
        {
            Description = $"The engine: {string.Join(" or ", WasmEngineNames.All)}. Default {WasmEngineNames.Default}.",
            HelpName = "NAME",
            DefaultValueFactory = _ => WasmEngineNames.Default,
        };
        var stats = new Option<bool>("--stats")
        {
            Description = "Print compile/instantiate/run times, fuel used and memory size to stderr.",
        };

        var command = new Command("run", "Run a WebAssembly (WASI) program locally.")
        {
            file, programArgs, fuel, maxMemory, timeout, seed, dirs, env, invoke, engine, stats,
        };

        command.SetAction((parse, cancellationToken) =>
        {
            var request = new RunRequest
            {
                File = parse.GetRequiredValue(file),
                Arguments = parse.GetValue(programArgs) ?? [],
                Fuel = parse.GetValue(fuel),
                MaxMemory = parse.GetValue(maxMemory),
                Timeout = parse.GetValue(timeout),
                Seed = parse.GetValue(seed),
                Directories = parse.GetValue(dirs) ?? [],
                Environment = parse.GetValue(env) ?? [],
                Invoke = parse.GetValue(invoke),
                Engine = parse.GetValue(engine) ?? WasmEngineNames.Default,
                Stats = parse.GetValue(stats),
            };
            return Task.FromResult(Execute(request, console, cancellationToken));
        });
        return command;
    }

    private static int Execute(RunRequest request, CliConsole console, CancellationToken cancellationToken)
    {
        var error = console.Error;
        if (request.File.ToString().StartsWith('-'))
        {
            // System.CommandLine hands unknown options to the first argument.
            error.WriteLine($"error: unknown option '{request.File}' (program arguments that start with '-' go after '--').");
            return CliExitCodes.Usage;
        }

        if (!TryBuildLimits(request, cancellationToken, out var limits, out var problem) ||
            !TryBuildWasiConfiguration(request, console, cancellationToken, out var config, out problem))
        {
            error.WriteLine("error: " + problem);
            return CliExitCodes.Usage;
        }

        if (!request.File.Exists)
        {
            error.WriteLine($"error: file not found: {request.File.FullName}");
            return CliExitCodes.Failure;
        }

        if (!WasmEngineNames.IsKnown(request.Engine))
        {
            error.WriteLine($"error: --engine: '{request.Engine}' is not an engine; use {string.Join(" or ", WasmEngineNames.All)}.");
            return CliExitCodes.Usage;
        }

        using var engine = CliEngines.Create(request.Engine);
        var timings = new Stats();
        IWasmModule module;
        try
        {
            var bytes = File.ReadAllBytes(request.File.FullName);
            var sw = Stopwatch.StartNew();
            module = engine.Compile(bytes);
            timings.CompileMs = sw.Elapsed.TotalMilliseconds;
        }
        catch (WasmModuleRejectedException e)
        {
            error.WriteLine($"error: {request.File.Name} is not a valid WebAssembly module: {e.Message}");
            return CliExitCodes.Failure;
        }
        catch (IOException e)
        {
            error.WriteLine($"error: cannot read {request.File.FullName}: {e.Message}");
            return CliExitCodes.Failure;
        }
        catch (UnauthorizedAccessException e)
        {
            error.WriteLine($"error: cannot read {request.File.FullName}: {e.Message}");
            return CliExitCodes.Failure;
        }

        WasmValue[] values = [];
        if (request.Invoke is { } name)
        {
            if (!TryParseInvocation(module, name, request.Arguments, console, out values, out var code))
            {
                return code;
            }
        }
        else if (!module.Exports.Any(e => e.Kind == WasmExternKind.Function && e.Name == "_start"))
        {
            var exports = string.Join(", ", module.Exports.Where(e => e.Kind == WasmExternKind.Function).Select(e => e.Name));
            error.WriteLine($"error: the module has no _start export (not a WASI command); call a function with --invoke NAME. Exported functions: {(exports.Length == 0 ? "(none)" : exports)}");
            return CliExitCodes.Failure;
        }

        var result = engine.Run(module, new WasmRunRequest { Export = request.Invoke, Arguments = values, Wasi = config, Limits = limits });
        var exitCode = CliExitCodes.Failure;
        switch (result.End)
        {
            case WasmRunEnd.Exited:
                exitCode = result.ExitCode;
                break;
            case WasmRunEnd.Returned:
                foreach (var value in result.Results)
                {
                    console.Out.WriteLine(InvokeValues.Format(value));
                }

                exitCode = CliExitCodes.Success;
                break;
            case WasmRunEnd.Trapped:
                error.WriteLine($"error: wasm trap: {result.Message}");
                exitCode = CliExitCodes.Trap;
                break;
            case WasmRunEnd.LinkFailed:
                error.WriteLine($"error: cannot link {request.File.Name}: {result.Message}");
                break;
            default:
                error.WriteLine($"error: {result.Message}.");
                break;
        }

        if (request.Stats)
        {
            timings.InstantiateMs = result.InstantiateTime.TotalMilliseconds;
            timings.RunMs = result.RunTime.TotalMilliseconds;
            timings.MemoryPages = result.MemoryPages;
            timings.Fuel = result.FuelConsumed;
            error.WriteLine(timings.Format(exitCode));
        }

        return exitCode;
    }

    private static bool TryParseInvocation(IWasmModule module, string name, string[] arguments, CliConsole console, out WasmValue[] values, out int exitCode)
    {
        values = [];
        exitCode = CliExitCodes.Usage;
        if (module.Exports.FirstOrDefault(e => e.Kind == WasmExternKind.Function && e.Name == name)?.FunctionType is not { } type)
        {
            console.Error.WriteLine($"error: the module exports no function named '{name}'.");
            exitCode = CliExitCodes.Failure;
            return false;
        }

        var parameters = type.Parameters;
        if (arguments.Length != parameters.Count)
        {
            console.Error.WriteLine($"error: {name} takes {parameters.Count} argument(s) ({type}), got {arguments.Length}.");
            return false;
        }

        values = new WasmValue[parameters.Count];
        for (var i = 0; i < values.Length; i++)
        {
            if (!InvokeValues.TryParse(arguments[i], parameters[i], out values[i]))
            {
                console.Error.WriteLine($"error: argument {i + 1} of {name}: '{arguments[i]}' is not a valid {parameters[i].ToString().ToLowerInvariant()}.");
                return false;
            }
        }

        if (type.Results.Any(t => t is WasmValueType.V128))
        {
            console.Error.WriteLine($"error: {name} returns a v128, which --invoke cannot print.");
            return false;
        }

        return true;
    }

    private static bool TryBuildLimits(RunRequest request, CancellationToken cancellationToken, out StoreLimits limits, out string problem)
    {
        limits = StoreLimits.Default;
        problem = string.Empty;
        var builder = new StoreLimitsBuilder().Cancellation(cancellationToken);
        if (request.Fuel is { } fuel)
        {
            builder.Fuel(fuel);
        }

        if (request.MaxMemory is { } memory)
        {
            if (!ValueParsers.TryParseMemoryPages(memory, out var pages, out var error))
            {
                problem = "--max-memory: " + error;
                return false;
            }

            builder.MemoryPages(pages);
        }

        if (request.Timeout is { } timeout)
        {
            if (!ValueParsers.TryParseDuration(timeout, out var duration))
            {
                problem = $"--timeout: '{timeout}' is not a duration; use e.g. 500ms, 10s or 2m.";
                return false;
            }

            builder.WallClock(duration);
        }

        limits = builder.Build();
        return true;
    }

    private static bool TryBuildWasiConfiguration(
        RunRequest request, CliConsole console, CancellationToken cancellationToken, out WasiConfiguration config, out string problem)
    {
        problem = string.Empty;
        config = new WasiConfiguration
        {
            Stdin = console.Stdin,
            Stdout = console.Stdout,
            Stderr = console.Stderr,
            StdioIsTerminal = console.IsTerminal,
            Cancellation = cancellationToken,
        };
        config.AddArgument(request.File.ToString());
        foreach (var argument in request.Arguments)
        {
            config.AddArgument(argument);
        }

        foreach (var variable in request.Environment)
        {
            var eq = variable.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                problem = $"--env: '{variable}' is not KEY=VALUE.";
                return false;
            }

            config.AddEnvironment(variable[..eq], variable[(eq + 1)..]);
        }

        foreach (var dir in request.Directories)
        {
            var split = dir.IndexOf("::", StringComparison.Ordinal);
            var host = split < 0 ? dir : dir[..split];
            var guest = split < 0 ? dir : dir[(split + 2)..];
            if (host.Length == 0 || guest.Length == 0)
            {
                problem = $"--dir: '{dir}' must be HOST or HOST::GUEST.";
                return false;
            }

            if (!Directory.Exists(host))
            {
                problem = $"--dir: the directory '{host}' does not exist.";
                return false;
            }

            config.AddPreopen(guest, new HostDirectoryWasiFileSystem(host));
        }

        if (request.Seed is { } seed)
        {
            config.MakeDeterministic(seed);
        }

        return true;
    }

    private sealed class RunRequest
    {
        public required FileInfo File { get; init; }

        public required string[] Arguments { get; init; }

        public long? Fuel { get; init; }

        public string? MaxMemory { get; init; }

        public string? Timeout { get; init; }

        public ulong? Seed { get; init; }

        public required string[] Directories { get; init; }

        public required string[] Environment { get; init; }

        public string? Invoke { get; init; }

        public required string Engine { get; init; }

        public bool Stats { get; init; }
    }

    private sealed class Stats
    {
        public double CompileMs { get; set; }

        public double InstantiateMs { get; set; }

        public double RunMs { get; set; }

        public long Fuel { get; set; }

        public int? MemoryPages { get; set; }

        public string Format(int exitCode) => string.Create(
            CultureInfo.InvariantCulture,
            $"stats: compile_ms={CompileMs:F1} instantiate_ms={InstantiateMs:F1} run_ms={RunMs:F1} fuel_consumed={Fuel} memory_pages={MemoryPages?.ToString(CultureInfo.InvariantCulture) ?? "-"} exit_code={exitCode}");
    }
}
