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
/// <param name="Refusal">Why the module was refused before it started (a capability), or null.</param>
/// <param name="Log">Lines the module logged through <c>xmbl.log</c> (capped like stdout).</param>
/// <param name="Files">Every file the module left under <c>/output</c>, by name, declared or not (what a task's proof covers).</param>
/// <param name="Trap">The trap, when the module trapped.</param>
public sealed record ServiceRunResult(
    bool Succeeded,
    WasmRunEnd End,
    int ExitCode,
    IReadOnlyDictionary<string, byte[]> Outputs,
    byte[] Stdout,
    byte[] Stderr,
    long FuelConsumed,
    IReadOnlyList<string> Problems,
    TimeSpan Duration,
    string? Refusal = null,
    IReadOnlyList<string>? Log = null,
    IReadOnlyDictionary<string, byte[]>? Files = null,
    TrapKind? Trap = null);

/// <summary>The host's side of the capabilities a node offers; a capability without a provider is not available.</summary>
public sealed record ServiceCapabilityProviders
{
    /// <summary>Fetches a URL the allow-list admitted (HTTP GET); returns the body, or null when the fetch failed.</summary>
    public Func<Uri, CancellationToken, byte[]?>? HttpGet { get; init; }

    /// <summary>The storage proxy: reads an object the task may read, or null.</summary>
    public Func<string, byte[]?>? StorageRead { get; init; }

    /// <summary>The storage proxy: writes an object where the task may write; false when refused.</summary>
    public Func<string, byte[], bool>? StorageWrite { get; init; }

    /// <summary>Nested jobs (<c>xmbl.run_module</c>), as a host function of the job runner.</summary>
    public WasmHostFunction? RunModule { get; init; }

    internal bool Provides(string capability) => capability switch
    {
        ServiceCapabilities.Logging => true,
        ServiceCapabilities.Http => HttpGet is not null,
        ServiceCapabilities.Storage => StorageRead is not null && StorageWrite is not null,
        ServiceCapabilities.Jobs => RunModule is not null,
        _ => false,
    };
}

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
    public static ServiceRunResult Run(IWasmEngine engine, ServiceManifest manifest, ReadOnlyMemory<byte> module, TaskInputs inputs, ServiceRunOptions options, CancellationToken cancellationToken = default) =>
        Run(engine, manifest, module, inputs, options, TrustTier.Untrusted, new ServiceCapabilityProviders(), cancellationToken);

    /// <summary>Runs the package's entry module with the capabilities its manifest declares and its tier allows.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="manifest">The manifest.</param>
    /// <param name="module">The entry module's bytes.</param>
    /// <param name="inputs">Inputs checked against the manifest.</param>
    /// <param name="options">Limits.</param>
    /// <param name="tier">The publisher's trust tier.</param>
    /// <param name="providers">The host's capability providers.</param>
    /// <param name="cancellationToken">Stops the run (it traps).</param>
    /// <returns>The result; a module refused by the capability gate has <see cref="ServiceRunResult.Refusal"/> and never ran.</returns>
    /// <exception cref="WasmModuleRejectedException">The module does not compile.</exception>
    public static ServiceRunResult Run(
        IWasmEngine engine, ServiceManifest manifest, ReadOnlyMemory<byte> module, TaskInputs inputs, ServiceRunOptions options, TrustTier tier, ServiceCapabilityProviders providers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return Run(engine.Compile(module), manifest, inputs, options, tier, providers, cancellationToken);
    }

    /// <summary>Runs an entry module compiled before (a node keeps each package's module compiled).</summary>
    /// <param name="compiled">The entry module, compiled by the engine that runs it.</param>
    /// <param name="manifest">The manifest.</param>
    /// <param name="inputs">Inputs checked against the manifest.</param>
    /// <param name="options">Limits.</param>
    /// <param name="tier">The publisher's trust tier.</param>
    /// <param name="providers">The host's capability providers.</param>
    /// <param name="cancellationToken">Stops the run (it traps).</param>
    /// <returns>The result; a module refused by the capability gate has <see cref="ServiceRunResult.Refusal"/> and never ran.</returns>
    public static ServiceRunResult Run(
        IWasmModule compiled, ServiceManifest manifest, TaskInputs inputs, ServiceRunOptions options, TrustTier tier, ServiceCapabilityProviders providers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(providers);
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var engine = compiled.Engine;
        var decision = CapabilityGate.Decide(manifest, compiled.Imports.Select(i => (i.Module, i.Name)), tier);
        var refusal = decision.Refusal ?? decision.Granted.Where(c => !providers.Provides(c)).Select(c => $"the capability '{c}' is not available on this host").FirstOrDefault();
        if (refusal is not null)
        {
            return new ServiceRunResult(false, WasmRunEnd.LinkFailed, 0, new Dictionary<string, byte[]>(), [], [], 0, ["refused at task_start: " + refusal], clock.Elapsed, refusal, []);
        }

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
        var log = new List<string>();
        var hostFunctions = HostFunctions(manifest, decision.Granted, providers, log, options, cancellationToken);
        var result = engine.Run(compiled, new WasmRunRequest { Wasi = wasi, Limits = limits, HostFunctions = hostFunctions });

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

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in outputFs.Files.ListFiles())
        {
            if (outputFs.Files.TryReadFile(file, out var bytes))
            {
                files[file.TrimStart('/')] = bytes;
            }
        }

        CheckOutputs(manifest, files, problems, outputs);
        return new ServiceRunResult(problems.Count == 0, result.End, result.ExitCode, outputs, stdout.ToArray(), stderr.ToArray(), result.FuelConsumed, problems, clock.Elapsed, null, log, files, result.Trap);
    }

    /// <summary>
    /// What is wrong with the files a run left under <c>/output</c>: a declared output missing or not of its type, a
    /// file the manifest does not declare. A task checks the validated files with it, so every node judges alike.
    /// </summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="files">The files, by name.</param>
    /// <returns>One sentence per problem; empty when the outputs are what the manifest declares.</returns>
    public static IReadOnlyList<string> CheckOutputs(ServiceManifest manifest, IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(files);
        var problems = new List<string>();
        CheckOutputs(manifest, files, problems, new Dictionary<string, byte[]>(StringComparer.Ordinal));
        return problems;
    }

    private static void CheckOutputs(ServiceManifest manifest, IReadOnlyDictionary<string, byte[]> files, List<string> problems, Dictionary<string, byte[]> outputs)
    {
        foreach (var output in manifest.Outputs)
        {
            if (!files.TryGetValue(output.Name, out var bytes))
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

        foreach (var name in files.Keys.Order(StringComparer.Ordinal))
        {
            if (!manifest.Outputs.Any(o => o.Name == name))
            {
                problems.Add($"the module wrote {OutputMount}/{name}, which is not an output in the manifest");
            }
        }
    }

    /// <summary>Result of <c>xmbl.http_get</c> for a URL outside the manifest's allow-list.</summary>
    public const long HttpNotAllowed = -1;

    /// <summary>Result of <c>xmbl.http_get</c> when the fetch failed.</summary>
    public const long HttpFailed = -2;

    private static readonly FuncType LogType = new([WasmValueType.I32, WasmValueType.I32], []);
    private static readonly FuncType HttpGetType = new([WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32], [WasmValueType.I64]);
    private static readonly FuncType StorageReadType = new([WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32], [WasmValueType.I64]);
    private static readonly FuncType StorageWriteType = new([WasmValueType.I32, WasmValueType.I32, WasmValueType.I32, WasmValueType.I32], [WasmValueType.I32]);

    // Only granted capabilities are linked: an import of anything else was refused above, before instantiation.
    private static List<WasmHostFunction> HostFunctions(
        ServiceManifest manifest, IReadOnlySet<string> granted, ServiceCapabilityProviders providers, List<string> log, ServiceRunOptions options, CancellationToken cancellationToken)
    {
        var functions = new List<WasmHostFunction>();
        var logged = 0;
        if (granted.Contains(ServiceCapabilities.Logging))
        {
            functions.Add(new WasmHostFunction(CapabilityGate.HostModule, "log", LogType, (call, args, _) =>
            {
                var length = Math.Min(args[1].I32, options.MaxLogBytes);
                var line = Encoding.UTF8.GetString(call.Memory((uint)args[0].I32, length));
                call.ConsumeFuel(length);
                if (logged + line.Length <= options.MaxLogBytes)
                {
                    logged += line.Length;
                    log.Add(line);
                }
            }));
        }

        if (granted.Contains(ServiceCapabilities.Http))
        {
            functions.Add(new WasmHostFunction(CapabilityGate.HostModule, "http_get", HttpGetType, (call, args, results) =>
            {
                var url = Encoding.UTF8.GetString(call.Memory((uint)args[0].I32, Math.Min(args[1].I32, 2048)));
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !manifest.HttpAllowList.Any(prefix => uri.AbsoluteUri.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    results[0] = WasmValue.FromI64(HttpNotAllowed);
                    return;
                }

                var body = providers.HttpGet!(uri, cancellationToken);
                results[0] = WasmValue.FromI64(body is null ? HttpFailed : Copy(call, body, args[2].I32, args[3].I32));
            }));
        }

        if (granted.Contains(ServiceCapabilities.Storage))
        {
            functions.Add(new WasmHostFunction(CapabilityGate.HostModule, "storage_read", StorageReadType, (call, args, results) =>
            {
                var name = Encoding.UTF8.GetString(call.Memory((uint)args[0].I32, Math.Min(args[1].I32, 1024)));
                var body = providers.StorageRead!(name);
                results[0] = WasmValue.FromI64(body is null ? -1 : Copy(call, body, args[2].I32, args[3].I32));
            }));
            functions.Add(new WasmHostFunction(CapabilityGate.HostModule, "storage_write", StorageWriteType, (call, args, results) =>
            {
                var name = Encoding.UTF8.GetString(call.Memory((uint)args[0].I32, Math.Min(args[1].I32, 1024)));
                var body = call.Memory((uint)args[2].I32, args[3].I32).ToArray();
                call.ConsumeFuel(body.Length);
                results[0] = WasmValue.FromI32(providers.StorageWrite!(name, body) ? 0 : -1);
            }));
        }

        if (granted.Contains(ServiceCapabilities.Jobs))
        {
            functions.Add(providers.RunModule!);
        }

        return functions;
    }

    // Copies up to `cap` bytes to the guest and returns the full length, so the guest can retry with a bigger buffer.
    private static long Copy(IWasmHostCall call, byte[] body, int pointer, int cap)
    {
        var n = Math.Min(body.Length, Math.Max(cap, 0));
        call.ConsumeFuel(n);
        body.AsSpan(0, n).CopyTo(call.Memory((uint)pointer, n));
        return body.Length;
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
