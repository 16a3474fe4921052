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
