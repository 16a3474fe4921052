using System.Globalization;
using System.Numerics;

namespace Xmbl.Cluster.Identity.Tests;

[Trait("Suite", "BVT")]
public class Ed25519KeyPairTests
{
    // RFC 8032 section 7.1, test 1.
    private static readonly byte[] Rfc8032Seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly byte[] Rfc8032Public = Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    private static readonly byte[] Rfc8032Signature = Convert.FromHexString(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");

    [Fact]
    public void FromSeed_Rfc8032Vector_DerivesPublicKeyAndSignature()
    {
        var pair = Ed25519KeyPair.FromSeed(Rfc8032Seed);

        Assert.Equal(Rfc8032Public, pair.PublicKey.Bytes.ToArray());
        Assert.Equal(Rfc8032Signature, pair.Sign([]));
        Assert.True(pair.PublicKey.Verify([], Rfc8032Signature));
    }

    [Fact]
    public void Verify_TamperedMessageOrSignature_ReturnsFalse()
    {
        var pair = Ed25519KeyPair.Generate();
        var message = "transfer 10 xmbl.c"u8.ToArray();
        var signature = pair.Sign(message);

        Assert.True(pair.PublicKey.Verify(message, signature));
        message[0] ^= 1;
        Assert.False(pair.PublicKey.Verify(message, signature));
        Assert.False(pair.PublicKey.Verify(message, signature.AsSpan(1)));
    }

    [Fact]
    public void Did_RoundTrips_AndStartsWithEd25519Prefix()
    {
        var pair = Ed25519KeyPair.Generate();

        var did = pair.PublicKey.Did;

        Assert.StartsWith("did:key:z6Mk", did, StringComparison.Ordinal);
        Assert.Equal(pair.PublicKey, PublicIdentity.ParseDid(did));
    }

    [Theory]
    [InlineData("did:web:example.com")]
    [InlineData("did:key:z0OIl")]
    [InlineData("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")]
    public void ParseDid_NotAnEd25519DidKey_ThrowsFormatException(string did)
    {
        Assert.Throws<FormatException>(() => PublicIdentity.ParseDid(did));
        Assert.False(PublicIdentity.TryParseDid(did, out _));
    }

    [Fact]
    public void KeyFile_LoadOrCreate_ReturnsTheSameKeyOnSecondLoad()
    {
        var path = Path.Combine(Path.GetTempPath(), "xmbl-key-" + Guid.NewGuid().ToString("N"), "node.key");
        try
        {
            var first = KeyFile.LoadOrCreate(path);
            var second = KeyFile.LoadOrCreate(path);

            Assert.Equal(first.PublicKey, second.PublicKey);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void KeyFile_CorruptFile_ThrowsInvalidDataNamingThePath()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a key!");

            var error = Assert.Throws<InvalidDataException>(() => KeyFile.LoadOrCreate(path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

[Trait("Suite", "BVT")]
public class Ed25519Rfc8032Tests
{
    // RFC 8032 section 7.1: secret key, public key, message, signature.
    public static TheoryData<string, string, string, string> Vectors => new()
    {
        {
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        },
        {
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        },
        {
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void SignAndVerify_Rfc8032Vectors_MatchExactly(string secret, string publicKey, string message, string signature)
    {
        using var pair = Ed25519KeyPair.FromSeed(Convert.FromHexString(secret));
        var bytes = Convert.FromHexString(message);
        var expected = Convert.FromHexString(signature);
        var into = new byte[Ed25519KeyPair.SignatureLength];
        pair.Sign(bytes, into);

        Assert.Equal(publicKey, Convert.ToHexStringLower(pair.PublicKey.Bytes));
        Assert.Equal(expected, pair.Sign(bytes));
        Assert.Equal(expected, into);
        Assert.True(new PublicIdentity(Convert.FromHexString(publicKey)).Verify(bytes, expected));
    }

    [Fact]
    public void Verify_SignatureWithScalarPlusGroupOrder_IsRefusedAsNonCanonical()
    {
        // S + L verifies under the group law, so a lax verifier accepts two signatures for one message (malleability).
        using var pair = Ed25519KeyPair.Generate();
        var message = "pay 5"u8.ToArray();
        var signature = pair.Sign(message);
        var order = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", CultureInfo.InvariantCulture);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true) + order;
        var malleated = signature.ToArray();
        Assert.True(s.TryWriteBytes(malleated.AsSpan(32), out var written, isUnsigned: true) && written == 32);

        Assert.True(pair.PublicKey.Verify(message, signature));
        Assert.False(pair.PublicKey.Verify(message, malleated));
    }

    [Theory]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // the neutral element (order 1)
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // y = 0: order 4
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = -1: order 2
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = p + 1: non-canonical
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = 2^255 - 1: non-canonical
    public void PublicKey_SmallOrderOrNonCanonical_IsRefused(string hex)
    {
        var key = Convert.FromHexString(hex);
        var did = "did:key:z" + Base58.Encode([0xED, 0x01, .. key]);

        Assert.Throws<ArgumentException>(() => new PublicIdentity(key));
        Assert.Throws<FormatException>(() => PublicIdentity.ParseDid(did));
        Assert.False(PublicIdentity.TryParseDid(did, out _));
    }

    [Fact]
    public void KeyFile_NewKey_IsOwnerOnlyAndLeavesNoTempFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var directory = Path.Combine(Path.GetTempPath(), "xmbl-key-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(directory, "wallet.key");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(path + ".tmp", "leftover of a crashed run");
            File.SetUnixFileMode(path + ".tmp", (UnixFileMode)0b110_100_100);

            using var pair = KeyFile.LoadOrCreate(path);

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.False(File.Exists(path + ".tmp"));
            using var again = KeyFile.LoadOrCreate(path);
            Assert.Equal(pair.PublicKey, again.PublicKey);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
