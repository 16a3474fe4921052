using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class PeerIdTests
{
    // The Ed25519 vector of libp2p/specs peer-ids.md; the expected texts are what js-libp2p 3.x prints for it.
    private const string SeedHex = "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d";
    private const string PublicKeyProtoHex = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string Base58 = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";
    private const string Cid = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6";

    [Fact]
    public void PeerId_OfSpecVectorKey_MatchesJsLibp2p()
    {
        using var key = Ed25519KeyPair.FromSeed(Convert.FromHexString(SeedHex));
        Assert.Equal(PublicKeyProtoHex, Convert.ToHexStringLower(PublicKeyProto.EncodeEd25519(key.PublicKey.Bytes)));
        var peer = PeerId.FromPublicKey(key.PublicKey);
        Assert.Equal(Base58, peer.ToString());
        Assert.Equal(Cid, peer.ToCidString());
        Assert.Equal("0024" + PublicKeyProtoHex, Convert.ToHexStringLower(peer.Bytes));
    }

    [Fact]
    public void PeerId_Parse_AcceptsBase58AndCidAlike()
    {
        Assert.Equal(PeerId.Parse(Base58), PeerId.Parse(Cid));
        Assert.Equal(Convert.FromHexString(PublicKeyProtoHex)[4..], PeerId.Parse(Base58).TryGetPublicKey()!.Bytes.ToArray());
    }

    [Fact]
    public void PeerId_OfAnyEd25519Key_Is52CharactersStartingWith12D3KooW()
    {
        for (var i = 0; i < 20; i++)
        {
            using var key = Ed25519KeyPair.Generate();
            var text = PeerId.FromPublicKey(key.PublicKey).ToString();
            Assert.Equal(52, text.Length);
            Assert.StartsWith("12D3KooW", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void PeerId_Sha256Multihash_IsAcceptedWithoutKey()
    {
        var peer = PeerId.Parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
        Assert.Null(peer.TryGetPublicKey());
        Assert.Equal("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", peer.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0OIl")]
    [InlineData("1")]
    [InlineData("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")] // a CIDv1 of dag-pb, not libp2p-key
    public void PeerId_BadText_IsRefused(string text) => Assert.Throws<FormatException>(() => PeerId.Parse(text));

    [Fact]
    public void PublicKeyProto_NonEd25519OrBadLength_IsRefused()
    {
        Assert.False(PublicKeyProto.TryDecodeEd25519(Convert.FromHexString("080012201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"), out _));
        Assert.False(PublicKeyProto.TryDecodeEd25519(Convert.FromHexString("0801121f1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce2"), out _));
        Assert.False(PublicKeyProto.TryDecodeEd25519(Convert.FromHexString("08011220"), out _));
    }
}
