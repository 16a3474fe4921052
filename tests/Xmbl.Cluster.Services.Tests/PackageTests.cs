using System.IO.Compression;
using System.Text;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Services.Tests;

public sealed class PackageTests
{
    [Fact]
    public void SignedPackage_ReadsBackWithManifestFilesAndSigner()
    {
        using var key = Ed25519KeyPair.Generate();
        var bytes = Fixtures.Package(key, data: [1, 2, 3]);

        var package = PackageReader.Read(bytes);

        Assert.Equal("org.example.echo", package.Manifest.PackageId);
        Assert.Equal(key.PublicKey.Did, package.Signature.Signer);
        Assert.Equal(Fixtures.EmptyModule, package.EntryModule);
        Assert.Equal([1, 2, 3], package.Files["data/table.bin"]);
        Assert.Equal(64, package.Sha256.Length);
    }

    [Fact]
    public void PackingTwice_GivesTheSameBytes()
    {
        using var key = Fixtures.Author();

        Assert.Equal(Fixtures.Package(key, [9]), Fixtures.Package(key, [9]));
    }

    [Fact]
    public void Writer_RefusesAKeyThatIsNotTheAuthors()
    {
        using var key = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        var manifest = Fixtures.Manifest(other.PublicKey.Did);

        var e = Assert.Throws<ArgumentException>(() => PackageWriter.Write(manifest, new Dictionary<string, byte[]> { ["modules/main.wasm"] = Fixtures.EmptyModule }, key));
        Assert.Contains("author", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModuleChangedAfterSigning_IsRefusedAsTampered()
    {
        using var key = Ed25519KeyPair.Generate();
        var tampered = Rewrite(Fixtures.Package(key), (name, bytes) => name == "modules/main.wasm" ? [.. bytes, 0x00] : bytes);

        var e = Refused(tampered, PackageRejection.Tampered);
        Assert.Contains("'modules/main.wasm' was changed after signing", e.Message, StringComparison.Ordinal);
        Assert.Equal("tampered", e.ReasonCode);
    }

    [Fact]
    public void ManifestChangedAfterSigning_IsRefusedAsBadSignature()
    {
        using var key = Ed25519KeyPair.Generate();
        var tampered = Rewrite(Fixtures.Package(key), (name, bytes) =>
            name == PackagePaths.Manifest ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("\"maxMemoryMB\": 16", "\"maxMemoryMB\": 4096", StringComparison.Ordinal)) : bytes);

        Refused(tampered, PackageRejection.BadSignature);
    }

    [Fact]
    public void ManifestRelaidOut_StillVerifies()
    {
        using var key = Ed25519KeyPair.Generate();
        var relaid = Rewrite(Fixtures.Package(key), (name, bytes) =>
            name == PackagePaths.Manifest ? ManifestWriter.ToCanonicalJson(ManifestParser.Parse(bytes)) : bytes);

        Assert.Equal(key.PublicKey.Did, PackageReader.Read(relaid).Signature.Signer);
    }

    [Fact]
    public void SignatureRemoved_IsRefusedAsUnsigned()
    {
        using var key = Ed25519KeyPair.Generate();
        var unsigned = Rewrite(Fixtures.Package(key), (name, bytes) => name == PackagePaths.Signature ? null : bytes);

        Assert.Contains("not signed", Refused(unsigned, PackageRejection.Unsigned).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignatureGarbage_IsRefusedAsUnsigned()
    {
        using var key = Ed25519KeyPair.Generate();
        var garbage = Rewrite(Fixtures.Package(key), (name, bytes) => name == PackagePaths.Signature ? "{\"format\":1}"u8.ToArray() : bytes);

        Refused(garbage, PackageRejection.Unsigned);
    }

    [Fact]
    public void SignedByAnotherKey_IsRefusedAsWrongSigner()
    {
        using var author = Ed25519KeyPair.Generate();
        using var thief = Ed25519KeyPair.Generate();

        // The thief re-signs the author's package with their own key: signer and author differ.
        var original = PackageReader.Read(Fixtures.Package(author));
        var forged = PackageSignature.Sign(original.Manifest, original.Signature.Files, thief);
        var repacked = Rewrite(Fixtures.Package(author), (name, bytes) => name == PackagePaths.Signature ? forged.ToJson() : bytes);

        var e = Refused(repacked, PackageRejection.WrongSigner);
        Assert.Contains(thief.PublicKey.Did, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignatureBytesOfAnotherKeyUnderTheAuthorsName_IsRefusedAsBadSignature()
    {
        using var author = Ed25519KeyPair.Generate();
        using var thief = Ed25519KeyPair.Generate();
        var original = PackageReader.Read(Fixtures.Package(author));
        var forged = PackageSignature.Sign(original.Manifest, original.Signature.Files, thief) with { Signer = author.PublicKey.Did };
        var repacked = Rewrite(Fixtures.Package(author), (name, bytes) => name == PackagePaths.Signature ? forged.ToJson() : bytes);

        Refused(repacked, PackageRejection.BadSignature);
    }

    [Fact]
    public void EntryAddedAfterSigning_IsRefusedAsTampered()
    {
        using var key = Ed25519KeyPair.Generate();
        var added = Rewrite(Fixtures.Package(key), (_, bytes) => bytes, extra: ("modules/evil.wasm", Fixtures.EmptyModule));

        Assert.Contains("'modules/evil.wasm' was added", Refused(added, PackageRejection.Tampered).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignedFileRemoved_IsRefusedAsTampered()
    {
        using var key = Ed25519KeyPair.Generate();
        var removed = Rewrite(Fixtures.Package(key, [1]), (name, bytes) => name == "data/table.bin" ? null : bytes);

        Assert.Contains("missing", Refused(removed, PackageRejection.Tampered).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../escape.wasm")]
    [InlineData("/abs.wasm")]
    [InlineData("modules\\win.wasm")]
    [InlineData("modules/../../x")]
    public void PathTraversalEntry_IsRefused(string entry)
    {
        using var key = Ed25519KeyPair.Generate();
        var hostile = Rewrite(Fixtures.Package(key), (_, bytes) => bytes, extra: (entry, [1]));

        Refused(hostile, PackageRejection.UnsafeEntry);
    }

    [Fact]
    public void DuplicateEntry_IsRefused()
    {
        using var key = Ed25519KeyPair.Generate();
        var duplicated = Rewrite(Fixtures.Package(key), (_, bytes) => bytes, extra: ("MODULES/MAIN.WASM", [1]));

        Assert.Contains("appears twice", Refused(duplicated, PackageRejection.UnsafeEntry).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZipBomb_IsRefusedBeforeInflating()
    {
        using var key = Ed25519KeyPair.Generate();
        var bomb = Rewrite(Fixtures.Package(key), (_, bytes) => bytes, extra: ("data/zeros.bin", new byte[8 * 1024 * 1024]));

        Assert.Contains("zip bomb", Refused(bomb, PackageRejection.TooLarge).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EntryOverTheLimit_IsRefused()
    {
        using var key = Ed25519KeyPair.Generate();

        var e = Assert.Throws<PackageRejectedException>(() => PackageReader.Read(Fixtures.Package(key, new byte[8192]), PackageLimits.Default with { MaxEntryBytes = 4096 }));
        Assert.Equal(PackageRejection.TooLarge, e.Reason);
        Assert.Contains("data/table.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TooManyEntries_AreRefused()
    {
        using var key = Ed25519KeyPair.Generate();

        var e = Assert.Throws<PackageRejectedException>(() => PackageReader.Read(Fixtures.Package(key, [1]), PackageLimits.Default with { MaxEntries = 3 }));
        Assert.Contains("4 entries", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TotalOverTheLimit_IsRefused()
    {
        using var key = Ed25519KeyPair.Generate();

        var e = Assert.Throws<PackageRejectedException>(() =>
            PackageReader.Read(Fixtures.Package(key, new byte[3500]), PackageLimits.Default with { MaxEntryBytes = 4000, MaxTotalBytes = 4000 }));
        Assert.Equal(PackageRejection.TooLarge, e.Reason);
    }

    [Fact]
    public void PackageOverTheLimit_IsRefusedUnopened()
    {
        var e = Assert.Throws<PackageRejectedException>(() => PackageReader.Read(new byte[100], PackageLimits.Default with { MaxPackageBytes = 99 }));
        Assert.Equal(PackageRejection.TooLarge, e.Reason);
    }

    [Fact]
    public void NotAZip_IsRefusedAsMalformed()
    {
        Refused(Encoding.ASCII.GetBytes("this is not a zip"), PackageRejection.Malformed);
    }

    [Fact]
    public void TruncatedZip_IsRefusedAsMalformed()
    {
        using var key = Ed25519KeyPair.Generate();
        var bytes = Fixtures.Package(key);

        Refused(bytes[..(bytes.Length / 2)], PackageRejection.Malformed);
    }

    [Fact]
    public void RandomBytes_NeverEscapeAsAnythingButARejection()
    {
        using var key = Ed25519KeyPair.Generate();
        var original = Fixtures.Package(key, [1, 2, 3]);
        var random = new Random(17);
        for (var i = 0; i < 300; i++)
        {
            var copy = (byte[])original.Clone();
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                // A flipped bit in a part no check covers (a timestamp, a comment) still reads; the content is intact.
                Assert.Equal(Fixtures.EmptyModule, PackageReader.Read(copy).EntryModule);
            }
            catch (PackageRejectedException)
            {
            }
        }
    }

    [Fact]
    public void InvalidManifestInPackage_IsRefusedWithItsPaths()
    {
        using var key = Ed25519KeyPair.Generate();
        var broken = Rewrite(Fixtures.Package(key), (name, bytes) => name == PackagePaths.Manifest ? "{\"version\":\"x\"}"u8.ToArray() : bytes);

        var e = Refused(broken, PackageRejection.InvalidManifest);
        Assert.Contains(e.ManifestErrors, m => m.Path == "$.version");
    }

    private static PackageRejectedException Refused(byte[] package, PackageRejection reason)
    {
        var e = Assert.Throws<PackageRejectedException>(() => PackageReader.Read(package));
        Assert.Equal(reason, e.Reason);
        return e;
    }

    // Copies a package entry by entry through `change` (null drops the entry), optionally adding one raw entry.
    private static byte[] Rewrite(byte[] package, Func<string, byte[], byte[]?> change, (string Name, byte[] Bytes)? extra = null)
    {
        using var input = new ZipArchive(new MemoryStream(package), ZipArchiveMode.Read);
        using var buffer = new MemoryStream();
        using (var output = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                using var source = entry.Open();
                using var copy = new MemoryStream();
                source.CopyTo(copy);
                if (change(entry.FullName, copy.ToArray()) is { } bytes)
                {
                    Write(output, entry.FullName, bytes);
                }
            }

            if (extra is { } e)
            {
                Write(output, e.Name, e.Bytes);
            }
        }

        return buffer.ToArray();
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
        stream.Write(bytes);
    }
}
