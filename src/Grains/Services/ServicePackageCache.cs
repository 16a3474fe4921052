using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Grains.Services;

/// <summary>A verified package and its entry module, compiled for this silo's engine.</summary>
/// <param name="Package">The package (every <see cref="PackageReader"/> check passed).</param>
/// <param name="Entry">The entry module, compiled.</param>
public sealed record CachedService(ServicePackage Package, IWasmModule Entry);

/// <summary>
/// A node's packages: the first task of a package on this silo retrieves it from the library (the
/// <c>retrieve_service</c>, which re-verifies hash and signature), compiles its entry module and keeps both; later
/// tasks reuse them. A refused copy is not kept, so the next task tries again.
/// </summary>
public sealed partial class ServicePackageCache(ServiceLibrary library, IGrainFactory grains, IWasmEngine engine, IOptions<TaskOptions> options, ILogger<ServicePackageCache> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<CachedService>>> _packages = new(StringComparer.Ordinal);
    private long _retrievals;

    /// <summary>How many packages this silo retrieved from the library (a cached package is retrieved once).</summary>
    public long Retrievals => Interlocked.Read(ref _retrievals);

    /// <summary>Whether the package with this SHA-256 is cached here (a node's fitness counts it).</summary>
    /// <param name="sha256">The package's SHA-256.</param>
    /// <returns>True when cached and verified.</returns>
    public bool Has(string sha256) => _packages.TryGetValue(sha256, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully;

    /// <summary>The verified package <paramref name="packageId"/>@<paramref name="version"/> whose SHA-256 is <paramref name="sha256"/>.</summary>
    /// <param name="packageId">The package id.</param>
    /// <param name="version">The version.</param>
    /// <param name="sha256">The SHA-256 the task was submitted with.</param>
    /// <param name="cancellationToken">Cancels the retrieval.</param>
    /// <returns>The package and its compiled entry.</returns>
    /// <exception cref="PackageRejectedException">The library has no such package, or its copy fails verification.</exception>
    public async Task<CachedService> GetAsync(string packageId, string version, string sha256, CancellationToken cancellationToken)
    {
        if (_packages.Count >= options.Value.CachedPackages && !_packages.ContainsKey(sha256))
        {
            // A simple bound: start over rather than track use (packages are few and a retrieval is cheap next to a run).
            _packages.Clear();
        }

        var lazy = _packages.GetOrAdd(sha256, _ => new Lazy<Task<CachedService>>(() => RetrieveAsync(packageId, version, sha256, cancellationToken)));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            _packages.TryRemove(new KeyValuePair<string, Lazy<Task<CachedService>>>(sha256, lazy));
            throw;
        }
    }

    private async Task<CachedService> RetrieveAsync(string packageId, string version, string sha256, CancellationToken cancellationToken)
    {
        var key = packageId + "@" + version;
        var entry = await grains.GetGrain<IServicePackageGrain>(key).GetAsync()
            ?? throw new PackageRejectedException(PackageRejection.Malformed, $"{key} is not in the service library.");
        if (!string.Equals(entry.Sha256, sha256, StringComparison.Ordinal))
        {
            throw new PackageRejectedException(PackageRejection.Tampered, $"{key} is published as {entry.Sha256}, not the {sha256} the task was submitted with.");
        }

        Interlocked.Increment(ref _retrievals);
        ServicePackage package;
        try
        {
            package = await library.RetrieveAsync(entry, cancellationToken);
        }
        catch (PackageRejectedException ex)
        {
            LogRefused(key, ex.Reason.ToString(), ex.Message);
            throw;
        }

        var module = package.EntryModule ?? throw new PackageRejectedException(PackageRejection.InvalidManifest, $"{key} is a builtin service; it has no module a node can run.");
        var compiled = engine.Compile(module);
        LogRetrieved(key, sha256);
        return new CachedService(package, compiled);
    }

    [LoggerMessage(EventId = 5210, Level = LogLevel.Information, Message = "Service {Key} retrieved from the library and verified (sha256 {Sha256})")]
    private partial void LogRetrieved(string key, string sha256);

    [LoggerMessage(EventId = 5211, Level = LogLevel.Warning, Message = "Service {Key} refused on retrieval ({Reason}): {Detail}")]
    private partial void LogRefused(string key, string reason, string detail);
}
