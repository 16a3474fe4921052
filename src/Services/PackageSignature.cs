using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Services;

/// <summary>A file and the SHA-256 its author signed.</summary>
/// <param name="Path">The package path.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
public sealed record SignedFile(string Path, string Sha256);

/// <summary>
/// <c>signature.json</c>: the signer's did:key, every file's SHA-256 and an Ed25519 signature over
/// <see cref="SignedBytes"/>: the line <c>xmbl-meshsvc-v1</c>, the canonical manifest (<see cref="ManifestWriter"/>),
/// then one line <c>PATH SHA256</c> per file in ordinal path order, each ended by <c>\n</c>.
/// </summary>
/// <param name="Signer">The signer's did:key.</param>
/// <param name="Files">The signed file hashes, in ordinal path order.</param>
/// <param name="Signature">The 64-byte Ed25519 signature.</param>
public sealed record PackageSignature(string Signer, IReadOnlyList<SignedFile> Files, byte[] Signature)
{
    /// <summary>The format tag, first line of the signed bytes.</summary>
    public const string Format = "xmbl-meshsvc-v1";

    /// <summary>Signs a manifest and its files' hashes.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="files">Every file's hash.</param>
    /// <param name="key">The author's key.</param>
    /// <returns>The signature.</returns>
    public static PackageSignature Sign(ServiceManifest manifest, IEnumerable<SignedFile> files, Ed25519KeyPair key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var sorted = Sort(files);
        return new PackageSignature(key.PublicKey.Did, sorted, key.Sign(SignedBytes(manifest, sorted)));
    }

    /// <summary>The bytes the signature covers.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="files">The file hashes in ordinal path order.</param>
    /// <returns>The bytes.</returns>
    public static byte[] SignedBytes(ServiceManifest manifest, IReadOnlyList<SignedFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var canonical = ManifestWriter.ToCanonicalJson(manifest);
        var text = new StringBuilder();
        foreach (var file in files)
        {
            text.Append(file.Path).Append(' ').Append(file.Sha256).Append('\n');
        }

        var header = Encoding.ASCII.GetBytes(Format + "\n");
        var tail = Encoding.ASCII.GetBytes(text.ToString());
        return [.. header, .. canonical, (byte)'\n', .. tail];
    }

    /// <summary>Whether the signature verifies for <paramref name="manifest"/> and <see cref="Files"/> under <see cref="Signer"/>.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>True when it does.</returns>
    public bool Verifies(ServiceManifest manifest) =>
        PublicIdentity.TryParseDid(Signer, out var signer) && signer!.Verify(SignedBytes(manifest, Files), Signature);

    /// <summary>Lower-case hex SHA-256.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The hash.</returns>
    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Writes <c>signature.json</c>.</summary>
    /// <returns>The UTF-8 JSON.</returns>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteString("signer", Signer);
            w.WriteStartArray("files");
            foreach (var file in Files)
            {
                w.WriteStartObject();
                w.WriteString("path", file.Path);
                w.WriteString("sha256", file.Sha256);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("signature", Convert.ToBase64String(Signature));
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads <c>signature.json</c>.</summary>
    /// <param name="json">The UTF-8 JSON.</param>
    /// <returns>The signature.</returns>
    /// <exception cref="PackageRejectedException">It is not a signature file of this format.</exception>
    public static PackageSignature Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.GetProperty("format").GetString() != Format)
            {
                throw Unsigned($"signature.json is not of format {Format}.");
            }

            var signer = root.GetProperty("signer").GetString() ?? throw Unsigned("signature.json names no signer.");
            var files = new List<SignedFile>();
            foreach (var item in root.GetProperty("files").EnumerateArray())
            {
                var path = item.GetProperty("path").GetString() ?? string.Empty;
                var sha = item.GetProperty("sha256").GetString() ?? string.Empty;
                if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
                {
                    throw Unsigned($"signature.json: the hash of '{path}' is not 64 lower-case hex digits.");
                }

                files.Add(new SignedFile(path, sha));
            }

            var signature = Convert.FromBase64String(root.GetProperty("signature").GetString() ?? string.Empty);
            if (signature.Length != Ed25519KeyPair.SignatureLength)
            {
                throw Unsigned($"signature.json: the signature is {signature.Length} bytes, not {Ed25519KeyPair.SignatureLength}.");
            }

            var sorted = Sort(files);
            if (!sorted.SequenceEqual(files))
            {
                throw Unsigned("signature.json: files are not in ordinal path order.");
            }

            return new PackageSignature(signer, sorted, signature);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Unsigned("signature.json is not a readable signature: " + e.Message);
        }
    }

    private static SignedFile[] Sort(IEnumerable<SignedFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var array = files.ToArray();
        Array.Sort(array, (a, b) => string.CompareOrdinal(a.Path, b.Path));
        return array;
    }

    private static PackageRejectedException Unsigned(string message) => new(PackageRejection.Unsigned, message);
}
