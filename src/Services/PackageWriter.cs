using System.IO.Compression;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Services;

/// <summary>Builds a signed <c>.meshsvc</c>: <c>manifest.json</c>, the listed files, <c>signature.json</c>.</summary>
/// <remarks>Entries get a fixed time stamp and a fixed order, so packing the same content twice gives the same bytes.</remarks>
public static class PackageWriter
{
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Packs and signs.</summary>
    /// <param name="manifest">The manifest (its author must be <paramref name="key"/>'s did:key).</param>
    /// <param name="files">The bytes of every file the manifest lists, by path.</param>
    /// <param name="key">The author's key.</param>
    /// <returns>The package bytes.</returns>
    /// <exception cref="ArgumentException">The key is not the author's, or a listed file is missing or an extra one given.</exception>
    public static byte[] Write(ServiceManifest manifest, IReadOnlyDictionary<string, byte[]> files, Ed25519KeyPair key)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(key);
        if (!string.Equals(manifest.Author, key.PublicKey.Did, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The manifest's author is {manifest.Author}, but the signing key is {key.PublicKey.Did}.", nameof(key));
        }

        foreach (var file in manifest.Files)
        {
            if (!files.ContainsKey(file.Path))
            {
                throw new ArgumentException($"The manifest lists '{file.Path}', but no such file was given.", nameof(files));
            }
        }

        foreach (var path in files.Keys)
        {
            if (!manifest.Files.Any(f => f.Path == path))
            {
                throw new ArgumentException($"'{path}' is not listed in the manifest's files.", nameof(files));
            }
        }

        var signed = manifest.Files.Select(f => new SignedFile(f.Path, PackageSignature.Hash(files[f.Path])));
        var signature = PackageSignature.Sign(manifest, signed, key);

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, PackagePaths.Manifest, ManifestWriter.ToIndentedJson(manifest));
            foreach (var file in signature.Files)
            {
                Add(zip, file.Path, files[file.Path]);
            }

            Add(zip, PackagePaths.Signature, signature.ToJson());
        }

        return buffer.ToArray();
    }

    private static void Add(ZipArchive zip, string path, byte[] bytes)
    {
        var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
        entry.LastWriteTime = EntryTime;
        using var stream = entry.Open();
        stream.Write(bytes);
    }
}
