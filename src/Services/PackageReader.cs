using System.IO.Compression;
using System.Security.Cryptography;

namespace Xmbl.Cluster.Services;

/// <summary>
/// Opens a <c>.meshsvc</c> from anyone and refuses it with the reason unless every check holds: within the limits,
/// safe unique entry names, a valid manifest, a signature by the manifest's author over the canonical manifest and
/// every file's hash, and each file exactly as signed (nothing missing, nothing added).
/// </summary>
public static class PackageReader
{
    private const long BombCheckFloor = 1024 * 1024;

    /// <summary>Reads and verifies a package.</summary>
    /// <param name="package">The package bytes.</param>
    /// <param name="limits">The limits (null for the defaults).</param>
    /// <returns>The verified package.</returns>
    /// <exception cref="PackageRejectedException">The package is refused; the exception says why.</exception>
    public static ServicePackage Read(ReadOnlyMemory<byte> package, PackageLimits? limits = null)
    {
        limits ??= PackageLimits.Default;
        if (package.Length > limits.MaxPackageBytes)
        {
            throw new PackageRejectedException(PackageRejection.TooLarge, $"The package is {package.Length} bytes; at most {limits.MaxPackageBytes} are accepted.");
        }

        var entries = ReadEntries(package, limits);
        if (!entries.Remove(PackagePaths.Manifest, out var manifestBytes))
        {
            throw new PackageRejectedException(PackageRejection.Malformed, $"The package has no {PackagePaths.Manifest}.");
        }

        if (!ManifestParser.TryParse(manifestBytes, out var manifest, out var errors))
        {
            throw new PackageRejectedException(PackageRejection.InvalidManifest, "The manifest is not valid: " + string.Join("; ", errors), errors);
        }

        if (!entries.Remove(PackagePaths.Signature, out var signatureBytes))
        {
            throw new PackageRejectedException(PackageRejection.Unsigned, $"The package is not signed: it has no {PackagePaths.Signature}.");
        }

        var signature = PackageSignature.Parse(signatureBytes);
        if (!string.Equals(signature.Signer, manifest.Author, StringComparison.Ordinal))
        {
            throw new PackageRejectedException(PackageRejection.WrongSigner, $"The package is signed by {signature.Signer}, but its manifest's author is {manifest.Author}.");
        }

        if (!signature.Verifies(manifest))
        {
            throw new PackageRejectedException(PackageRejection.BadSignature,
                "The signature does not verify over the manifest and the signed file hashes: the manifest or signature.json was changed after signing, or another key signed it.");
        }

        var signed = signature.Files.ToDictionary(f => f.Path, f => f.Sha256, StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (!signed.ContainsKey(file.Path))
            {
                throw new PackageRejectedException(PackageRejection.Tampered, $"'{file.Path}' is in the manifest but its hash was not signed.");
            }
        }

        foreach (var (path, sha) in signed)
        {
            if (!manifest.Files.Any(f => f.Path == path))
            {
                throw new PackageRejectedException(PackageRejection.Tampered, $"'{path}' was signed but is not in the manifest.");
            }

            if (!entries.TryGetValue(path, out var bytes))
            {
                throw new PackageRejectedException(PackageRejection.Tampered, $"'{path}' was signed but is missing from the package.");
            }

            if (!string.Equals(PackageSignature.Hash(bytes), sha, StringComparison.Ordinal))
            {
                throw new PackageRejectedException(PackageRejection.Tampered, $"'{path}' was changed after signing: its SHA-256 is not the signed one.");
            }
        }

        foreach (var path in entries.Keys)
        {
            if (!signed.ContainsKey(path))
            {
                throw new PackageRejectedException(PackageRejection.Tampered, $"'{path}' was added to the package after signing.");
            }
        }

        return new ServicePackage(manifest, signature, entries, Convert.ToHexStringLower(SHA256.HashData(package.Span)), package.Length);
    }

    private static Dictionary<string, byte[]> ReadEntries(ReadOnlyMemory<byte> package, PackageLimits limits)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        long total = 0;
        try
        {
            using var stream = new MemoryStream(package.ToArray(), writable: false);
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
            if (zip.Entries.Count > limits.MaxEntries)
            {
                throw new PackageRejectedException(PackageRejection.TooLarge, $"The package has {zip.Entries.Count} entries; at most {limits.MaxEntries} are accepted.");
            }

            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName;
                var isDirectory = name.EndsWith('/') && entry.Length == 0;
                var path = isDirectory ? name[..^1] : name;
                if (PackagePaths.Check(path) is { } problem)
                {
                    throw new PackageRejectedException(PackageRejection.UnsafeEntry, "Unsafe entry name: " + problem + ".");
                }

                if (!names.Add(name))
                {
                    throw new PackageRejectedException(PackageRejection.UnsafeEntry, $"The entry '{name}' appears twice (names are compared ignoring case).");
                }

                if (isDirectory)
                {
                    continue;
                }

                if (entry.Length > limits.MaxEntryBytes)
                {
                    throw new PackageRejectedException(PackageRejection.TooLarge, $"'{path}' is {entry.Length} bytes uncompressed; at most {limits.MaxEntryBytes} are accepted per file.");
                }

                if (entry.Length > BombCheckFloor && entry.Length / Math.Max(entry.CompressedLength, 1) > limits.MaxCompressionRatio)
                {
                    throw new PackageRejectedException(PackageRejection.TooLarge,
                        $"'{path}' expands {entry.Length / Math.Max(entry.CompressedLength, 1)} times; more than {limits.MaxCompressionRatio} marks a zip bomb.");
                }

                total += entry.Length;
                if (total > limits.MaxTotalBytes)
                {
                    throw new PackageRejectedException(PackageRejection.TooLarge, $"The files add up to more than {limits.MaxTotalBytes} bytes uncompressed.");
                }

                result[path] = ReadBounded(entry, path);
            }
        }
        catch (InvalidDataException e)
        {
            throw new PackageRejectedException(PackageRejection.Malformed, "The package is not a readable ZIP archive: " + e.Message);
        }

        return result;
    }

    // The header's size is the bound: a stream that yields more (a lying header) is refused, not believed.
    private static byte[] ReadBounded(ZipArchiveEntry entry, string path)
    {
        var bytes = new byte[entry.Length];
        using var stream = entry.Open();
        var read = 0;
        while (read < bytes.Length)
        {
            var n = stream.Read(bytes, read, bytes.Length - read);
            if (n == 0)
            {
                throw new PackageRejectedException(PackageRejection.Malformed, $"'{path}' ends after {read} of its {bytes.Length} bytes.");
            }

            read += n;
        }

        if (stream.ReadByte() >= 0)
        {
            throw new PackageRejectedException(PackageRejection.Malformed, $"'{path}' holds more than the {bytes.Length} bytes its header declares.");
        }

        return bytes;
    }
}
