using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Wasm;
using Xmbl.Cluster.Wasm.Engines;
using Xmbl.Cluster.Wasm.Wasi;
using Xmbl.Cluster.Wasm.Wasi.FileSystem;

namespace Xmbl.Cluster.Services;

/// <summary>Limits of one service run. Configuration section <c>Xmbl:Services:Run</c>.</summary>
public sealed record ServiceRunOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Xmbl:Services:Run";

    /// <summary>Fuel budget (<c>Fuel</c>, default 10 billion units).</summary>
    public long Fuel { get; init; } = 10_000_000_000;

    /// <summary>Wall-clock budget (<c>WallTime</c>, default 30 s).</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most bytes all outputs together may take (<c>MaxOutputBytes</c>, default 16 MiB).</summary>
    public long MaxOutputBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Most bytes kept of stdout and of stderr each (<c>MaxLogBytes</c>, default 64 KiB); the rest is dropped.</summary>
    public int MaxLogBytes { get; init; } = 64 * 1024;

    /// <summary>The seed of the run's clocks and random bytes (a task's comes from its id, so a validator sees the same).</summary>
    public ulong Seed { get; init; }
}

/// <summary>How a service run went.</summary>
/// <param name="Succeeded">Exited with 0 and wrote every declared output, each of its type.</param>
/// <param name="End">How the module ended.</param>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Outputs">The outputs written, by name.</param>
/// <param name="Stdout">Stdout (capped).</param>
/// <param name="Stderr">Stderr (capped).</param>
/// <param name="FuelConsumed">Fuel used.</param>
/// <param name="Problems">What went wrong, one sentence each; empty when it succeeded.</param>
/// <param name="Duration">Time from compile to end.</param>
public sealed record ServiceRunResult(
    bool Succeeded,
    WasmRunEnd End,
    int ExitCode,
    IReadOnlyDictionary<string, byte[]> Outputs,
    byte[] Stdout,
    byte[] Stderr,
    long FuelConsumed,
    IReadOnlyList<string> Problems,
    TimeSpan Duration);

/// <summary>
/// Runs a service's entry module on an engine behind the seam (<see cref="IWasmEngine"/>) as a WASI command:
/// inputs as files under <c>/input</c> and as a JSON object on stdin, outputs written by the module to
/// <c>/output/NAME</c>, deterministic clocks and randomness from the seed, fuel, memory (the manifest's
/// <c>maxMemoryMB</c>) and wall-clock limits.
/// </summary>
public static class ServiceRunner
{
    /// <summary>Where the module reads its inputs.</summary>
    public const string InputMount = "/input";

    /// <summary>Where the module writes its outputs.</summary>
    public const string OutputMount = "/output";

    /// <summary>Runs the package's entry module.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="manifest">The manifest.</param>
    /// <param name="module">The entry module's bytes.</param>
    /// <param name="inputs">Inputs checked against the manifest.</param>
    /// <param name="options">Limits.</param>
    /// <param name="cancellationToken">Stops the run (it traps).</param>
    /// <returns>The result; guest failures are results, not exceptions.</returns>
    /// <exception cref="WasmModuleRejectedException">The module does not compile.</exception>
    public static ServiceRunResult Run(IWasmEngine engine, ServiceManifest manifest, ReadOnlyMemory<byte> module, TaskInputs inputs, ServiceRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var compiled = engine.Compile(module);
        var inputFs = new InMemoryWasiFileSystem();
        foreach (var (name, bytes) in inputs.Files)
        {
            inputFs.AddFile(name, bytes);
        }

        var outputFs = new OutputFileSystem(options.MaxOutputBytes);
        var stdout = new TruncatingStream(options.MaxLogBytes);
        var stderr = new TruncatingStream(options.MaxLogBytes);
        var wasi = new WasiConfiguration
        {
            Stdin = new MemoryStream(inputs.Stdin, writable: false),
            Stdout = stdout,
            Stderr = stderr,
            Cancellation = cancellationToken,
        }
            .MakeDeterministic(options.Seed)
            .AddArgument(manifest.PackageId)
            .AddPreopen(InputMount, inputFs)
            .AddPreopen(OutputMount, outputFs);
        var limits = new StoreLimitsBuilder()
            .Fuel(options.Fuel)
            .MemoryPages(manifest.ResourceRequirements.MaxMemoryMB * 16)
            .WallClock(options.WallTime)
            .Cancellation(cancellationToken)
            .Build();
        var result = engine.Run(compiled, new WasmRunRequest { Wasi = wasi, Limits = limits });

        var problems = new List<string>();
        var outputs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        switch (result.End)
        {
            case WasmRunEnd.Exited when result.ExitCode == 0:
                break;
            case WasmRunEnd.Exited:
                problems.Add($"the module exited with code {result.ExitCode}");
                break;
            case WasmRunEnd.Trapped:
                problems.Add($"the module trapped ({result.Trap}): {result.Message}");
                break;
            case WasmRunEnd.LinkFailed:
                problems.Add("the module's imports cannot be satisfied: " + result.Message);
                break;
            default:
                problems.Add("the module is not a WASI command: " + result.Message);
                break;
        }

        if (outputFs.Overflowed)
        {
            problems.Add($"the outputs exceed {options.MaxOutputBytes} bytes");
        }

        foreach (var output in manifest.Outputs)
        {
            if (!outputFs.Files.TryReadFile(output.Name, out var bytes))
            {
                if (problems.Count == 0)
                {
                    problems.Add($"the module did not write {OutputMount}/{output.Name}");
                }

                continue;
            }

            if (TypeProblem(output, bytes) is { } problem)
            {
                problems.Add($"{OutputMount}/{output.Name} {problem}");
                continue;
            }

            outputs[output.Name] = bytes;
        }

        foreach (var file in outputFs.Files.ListFiles())
        {
            var name = file.TrimStart('/');
            if (!manifest.Outputs.Any(o => o.Name == name))
            {
                problems.Add($"the module wrote {OutputMount}/{name}, which is not an output in the manifest");
            }
        }

        return new ServiceRunResult(problems.Count == 0, result.End, result.ExitCode, outputs, stdout.ToArray(), stderr.ToArray(), result.FuelConsumed, problems, clock.Elapsed);
    }

    private static string? TypeProblem(ServiceOutput output, byte[] bytes)
    {
        switch (output.Type)
        {
            case ServiceValueType.String:
                try
                {
                    _ = new UTF8Encoding(false, true).GetCharCount(bytes);
                    return null;
                }
                catch (DecoderFallbackException)
                {
                    return "is declared a string but is not UTF-8";
                }

            case ServiceValueType.Json:
                try
                {
                    using var _ = JsonDocument.Parse(bytes);
                    return null;
                }
                catch (JsonException e)
                {
                    return "is declared json but is not: " + e.Message;
                }

            default:
                return null;
        }
    }

    /// <summary>Keeps the first bytes written and drops the rest (logs, not results).</summary>
    private sealed class TruncatingStream(int cap) : Stream
    {
        private readonly MemoryStream _buffer = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _buffer.Length;

        public override long Position
        {
            get => _buffer.Length;
            set => throw new NotSupportedException();
        }

        public byte[] ToArray() => _buffer.ToArray();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = cap - (int)_buffer.Length;
            if (room > 0)
            {
                _buffer.Write(buffer[..Math.Min(room, buffer.Length)]);
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
