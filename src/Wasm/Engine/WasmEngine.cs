using System.Security.Cryptography;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Compiles WebAssembly modules to .NET IL and caches the results by SHA-256. Thread-safe; create one per process
/// (or per configuration) and share it.
/// </summary>
public sealed class WasmEngine
{
    private readonly Dictionary<string, LinkedListNode<CompiledModule>> _cache = new(StringComparer.Ordinal);
    private readonly LinkedList<CompiledModule> _lru = new();
    private readonly Lock _gate = new();

    /// <summary>Creates an engine.</summary>
    /// <param name="options">Settings; defaults when null. Copied: later changes have no effect.</param>
    public WasmEngine(WasmEngineOptions? options = null)
    {
        var source = options ?? new WasmEngineOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(source.CompiledModuleCacheSize);
        Options = new WasmEngineOptions
        {
            FuelMetering = source.FuelMetering,
            CompiledModuleCacheSize = source.CompiledModuleCacheSize,
            CanonicalizeNaNs = source.CanonicalizeNaNs,
        };
    }

    /// <summary>The engine's settings (a private copy).</summary>
    public WasmEngineOptions Options { get; }

    /// <summary>Number of modules in the compiled-module cache.</summary>
    public int CachedModuleCount
    {
        get
        {
            lock (_gate)
            {
                return _cache.Count;
            }
        }
    }

    /// <summary>Decodes, validates and translates a module, or returns the cached result for identical bytes.</summary>
    /// <param name="wasm">The module binary.</param>
    /// <returns>The compiled module.</returns>
    /// <exception cref="WasmMalformedException">The binary is not well-formed.</exception>
    /// <exception cref="WasmInvalidException">The module fails validation.</exception>
    /// <exception cref="WasmCompileException">The module uses an unsupported feature or cannot be translated.</exception>
    public CompiledModule Compile(ReadOnlyMemory<byte> wasm)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(wasm.Span));
        if (TryGetCached(sha, out var cached))
        {
            return cached;
        }

        // The module model slices the binary, so keep a private copy the caller cannot mutate.
        var bytes = wasm.ToArray();
        var module = ModuleDecoder.Decode(bytes);
        ModuleValidator.Validate(module);

        // Function bodies are translated to IL on their first call (ModuleCode); validation above is complete, so
        // an invalid module is still rejected here.
        var code = new ModuleCode(module, sha[..16], Options.FuelMetering, Options.CanonicalizeNaNs);
        var compiled = new CompiledModule(this, sha, module, code, Options.FuelMetering);
        AddToCache(compiled);
        return compiled;
    }

    /// <summary>
    /// The optional features (e.g. <c>simd</c>) a module uses that this engine does not implement; empty when it runs
    /// everything the module uses. Decodes and validates without translating or caching, so it answers for modules
    /// another engine accepted. A module invalid for another reason answers empty: compiling it reports that.
    /// </summary>
    /// <param name="wasm">The module binary.</param>
    /// <returns>The unsupported features, each once.</returns>
    public static IReadOnlyList<string> UnsupportedFeatures(ReadOnlyMemory<byte> wasm)
    {
        try
        {
            ModuleValidator.Validate(ModuleDecoder.Decode(wasm));
            return [];
        }
        catch (WasmUnsupportedFeatureException ex) when (ex.Feature is { } feature)
        {
            return [feature];
        }
        catch (WasmCompileException)
        {
            return [];
        }
    }

    /// <summary>Drops every cached module.</summary>
    public void ClearCache()
    {
        lock (_gate)
        {
            _cache.Clear();
            _lru.Clear();
        }
    }

    private bool TryGetCached(string sha, out CompiledModule module)
    {
        lock (_gate)
        {
            if (_cache.TryGetValue(sha, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                module = node.Value;
                return true;
            }
        }

        module = null!;
        return false;
    }

    private void AddToCache(CompiledModule module)
    {
        if (Options.CompiledModuleCacheSize == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_cache.ContainsKey(module.Sha256))
            {
                return;
            }

            _cache[module.Sha256] = _lru.AddFirst(module);
            while (_cache.Count > Options.CompiledModuleCacheSize)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _cache.Remove(last.Value.Sha256);
            }
        }
    }
}
