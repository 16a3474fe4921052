using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Wasm;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Grains.Jobs.Modules;

/// <summary>
/// Content-addressed module storage: bytes as files <c>{data}/modules/{sha256}.wasm</c> (written atomically), metadata
/// in the module grain, and, in cluster mode, the bytes in the module grain's row too so every silo can fetch them
/// (each silo then keeps a file copy). Modules are compiled once per silo and cached.
/// </summary>
public sealed class ModuleStore
{
    /// <summary>Compiled modules kept per silo before the cache is cleared.</summary>
    private const int MaxCompiled = 256;

    private readonly IWasmEngine _engine;
    private readonly IGrainFactory _grains;
    private readonly ComputeOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, IWasmModule> _compiled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModuleInfo> _infos = new(StringComparer.Ordinal);

    /// <summary>Creates the store.</summary>
    /// <param name="engine">The engine that validates and compiles modules (the silo's, <c>Xmbl:Compute:Engine</c>).</param>
    /// <param name="grains">The grain factory.</param>
    /// <param name="options">The compute options.</param>
    /// <param name="time">The clock.</param>
    /// <param name="directory">Where module files live.</param>
    /// <param name="bytesInDatabase">Whether module bytes are also kept in the database.</param>
    public ModuleStore(IWasmEngine engine, IGrainFactory grains, IOptions<ComputeOptions> options, TimeProvider time, string directory, bool bytesInDatabase)
    {
        ArgumentNullException.ThrowIfNull(options);
        _engine = engine;
        _grains = grains;
        _options = options.Value;
        _time = time;
        Directory = directory;
        BytesInDatabase = bytesInDatabase;
        System.IO.Directory.CreateDirectory(directory);
    }

    /// <summary>The folder of module files.</summary>
    public string Directory { get; }

    /// <summary>Whether module bytes are also kept in the database.</summary>
    public bool BytesInDatabase { get; }

    /// <summary>Whether <paramref name="hash"/> looks like a module address (64 lower-case hex digits).</summary>
    /// <param name="hash">The text.</param>
    /// <returns>True when it does.</returns>
    public static bool IsValidHash(string? hash) =>
        hash is { Length: 64 } && hash.All(c => char.IsAsciiDigit(c) || (c >= 'a' && c <= 'f'));

    /// <summary>Validates, stores and registers a module; the same bytes twice give the same record.</summary>
    /// <param name="bytes">The module binary.</param>
    /// <param name="ct">Cancels the upload.</param>
    /// <returns>The module's record.</returns>
    /// <exception cref="ModuleRejectedException">The bytes are not a valid module, or too big.</exception>
    public async Task<ModuleInfo> AddAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        if (bytes.Length > _options.MaxModuleBytes)
        {
            throw new ModuleRejectedException($"The module has {bytes.Length} bytes; the limit is {_options.MaxModuleBytes} (Xmbl:Compute:MaxModuleBytes).");
        }

        IWasmModule compiled;
        try
        {
            compiled = _engine.Compile(bytes);
        }
        catch (WasmModuleRejectedException ex)
        {
            throw new ModuleRejectedException($"Not a valid WebAssembly module: {ex.Message}", ex);
        }

        var hash = compiled.Sha256;
        Remember(hash, compiled);
        await WriteFileAsync(hash, bytes, ct);
        var info = new ModuleInfo(
            hash,
            bytes.Length,
            _time.GetUtcNow(),
            [.. compiled.Exports.Where(e => e.Kind == WasmExternKind.Function).Select(e => e.Name)],
            [.. compiled.Imports.Where(i => i.Kind == WasmExternKind.Function).Select(i => i.Module + "." + i.Name)],
            compiled.Exports.Any(e => e.Kind == WasmExternKind.Function && string.Equals(e.Name, JobSpec.WasiStart, StringComparison.Ordinal)),
            BytesInDatabase,
            // An engine without optional features accepted it, so it uses none; otherwise ask which it uses.
            _engine.Features.Count == 0 ? null : WasmFeatures.UsedBy(bytes) is { Count: > 0 } used ? used : null);
        return await _grains.GetGrain<IModuleGrain>(hash).RegisterAsync(info, BytesInDatabase ? bytes.ToArray() : null);
    }

    /// <summary>The module's record, or null when it was never uploaded.</summary>
    /// <param name="hash">The module hash.</param>
    /// <returns>The record.</returns>
    public async Task<ModuleInfo?> GetInfoAsync(string hash)
    {
        if (!IsValidHash(hash))
        {
            return null;
        }

        // A module's record never changes once registered (it is named by its bytes), so it is cached; unknown
        // hashes are not, since they may be uploaded later.
        if (_infos.TryGetValue(hash, out var known))
        {
            return known;
        }

        var info = await _grains.GetGrain<IModuleGrain>(hash).GetAsync();
        if (info is not null)
        {
            if (_infos.Count >= MaxCompiled)
            {
                _infos.Clear();
            }

            _infos[hash] = info;
        }

        return info;
    }

    /// <summary>The module's bytes: the local file, else the database copy (then cached as a file); null when unknown.</summary>
    /// <param name="hash">The module hash.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>The bytes.</returns>
    public async Task<byte[]?> GetBytesAsync(string hash, CancellationToken ct = default)
    {
        if (!IsValidHash(hash))
        {
            return null;
        }

        var path = PathOf(hash);
        if (File.Exists(path))
        {
            var bytes = await File.ReadAllBytesAsync(path, ct);
            // A damaged file is ignored, not served: the address is the content's hash.
            if (string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), hash, StringComparison.Ordinal))
            {
                return bytes;
            }
        }

        var stored = await _grains.GetGrain<IModuleGrain>(hash).GetBytesAsync();
        if (stored is not null)
        {
            await WriteFileAsync(hash, stored, ct);
        }

        return stored;
    }

    /// <summary>The compiled module, compiled at most once per silo while cached.</summary>
    /// <param name="hash">The module hash.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>The compiled module.</returns>
    /// <exception cref="ModuleNotFoundException">No bytes for the hash.</exception>
    /// <exception cref="WasmModuleRejectedException">The bytes do not compile on this silo's engine (a module stored
    /// before validation, or accepted by a node running another engine).</exception>
    public async ValueTask<IWasmModule> GetCompiledAsync(string hash, CancellationToken ct = default)
    {
        if (_compiled.TryGetValue(hash, out var compiled))
        {
            return compiled;
        }

        var bytes = await GetBytesAsync(hash, ct) ?? throw new ModuleNotFoundException($"Module {hash} was never uploaded (POST /api/modules).");
        compiled = _engine.Compile(bytes);
        Remember(hash, compiled);
        return compiled;
    }

    private void Remember(string hash, IWasmModule compiled)
    {
        if (_compiled.Count >= MaxCompiled)
        {
            _compiled.Clear();
        }

        _compiled[hash] = compiled;
    }

    private string PathOf(string hash) => Path.Combine(Directory, hash + ".wasm");

    /// <summary>Writes to a temporary file and renames it into place, so a reader never sees a partial module.</summary>
    private async Task WriteFileAsync(string hash, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var path = PathOf(hash);
        if (File.Exists(path))
        {
            return;
        }

        var temp = Path.Combine(Directory, $".{hash}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await file.WriteAsync(bytes, ct);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
