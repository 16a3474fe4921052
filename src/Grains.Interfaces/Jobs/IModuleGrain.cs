namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>An uploaded module's metadata (and, in cluster mode, its bytes), keyed by its SHA-256.</summary>
[Alias("xmbl.IModuleGrain")]
public interface IModuleGrain : IGrainWithStringKey
{
    /// <summary>Records the module; uploading the same bytes again keeps the first record.</summary>
    /// <param name="info">The module's metadata.</param>
    /// <param name="bytes">The bytes to keep in the database, or null when they live only in files.</param>
    /// <returns>The stored record.</returns>
    Task<ModuleInfo> RegisterAsync(ModuleInfo info, byte[]? bytes);

    /// <summary>The module's record, or null when it was never uploaded.</summary>
    /// <returns>The record.</returns>
    [ReadOnly]
    Task<ModuleInfo?> GetAsync();

    /// <summary>The bytes kept in the database, or null when there are none.</summary>
    /// <returns>The bytes.</returns>
    [ReadOnly]
    Task<byte[]?> GetBytesAsync();
}
