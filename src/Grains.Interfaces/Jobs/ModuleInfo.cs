namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>An uploaded WebAssembly module.</summary>
/// <param name="Hash">SHA-256 of the bytes, lower-case hex; the module's address.</param>
/// <param name="Size">Bytes.</param>
/// <param name="UploadedAt">When it was first uploaded.</param>
/// <param name="Exports">Exported functions.</param>
/// <param name="Imports">Imported functions as <c>module.name</c>.</param>
/// <param name="IsWasiCommand">True when it exports <c>_start</c>.</param>
/// <param name="BytesInDatabase">True when the bytes are kept in the database (cluster mode) as well as in files.</param>
/// <param name="Features">Optional WebAssembly features the module uses (<c>simd</c>): only engines that run them get its jobs. Null for none.</param>
[GenerateSerializer, Immutable, Alias("xmbl.ModuleInfo")]
public sealed record ModuleInfo(
    string Hash,
    long Size,
    DateTimeOffset UploadedAt,
    IReadOnlyList<string> Exports,
    IReadOnlyList<string> Imports,
    bool IsWasiCommand,
    bool BytesInDatabase,
    IReadOnlyList<string>? Features = null);
