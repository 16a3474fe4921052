namespace Xmbl.Cluster.Services;

/// <summary>A package that passed every check of <see cref="PackageReader"/>: valid manifest, signed by its
/// author, every file exactly as signed.</summary>
public sealed class ServicePackage
{
    internal ServicePackage(ServiceManifest manifest, PackageSignature signature, IReadOnlyDictionary<string, byte[]> files, string sha256, long size)
    {
        Manifest = manifest;
        Signature = signature;
        Files = files;
        Sha256 = sha256;
        Size = size;
    }

    /// <summary>The manifest.</summary>
    public ServiceManifest Manifest { get; }

    /// <summary>The signature (its signer is the manifest's author).</summary>
    public PackageSignature Signature { get; }

    /// <summary>The files by package path.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>Lower-case hex SHA-256 of the package file.</summary>
    public string Sha256 { get; }

    /// <summary>The package file's size in bytes.</summary>
    public long Size { get; }

    /// <summary>The entry module's bytes (null for a builtin).</summary>
    public byte[]? EntryModule => Manifest.Entry is { } entry ? Files[entry] : null;
}
