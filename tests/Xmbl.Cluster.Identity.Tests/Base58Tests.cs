namespace Xmbl.Cluster.Identity.Tests;

[Trait("Suite", "BVT")]
public class Base58Tests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("00", "1")]
    [InlineData("0000ff", "115Q")]
    [InlineData("68656c6c6f20776f726c64", "StV1DL6CwTryKyV")]
    public void Encode_KnownVectors_MatchBase58Btc(string hex, string expected)
    {
        var bytes = Convert.FromHexString(hex);

        Assert.Equal(expected, Base58.Encode(bytes));
        Assert.Equal(bytes, Base58.Decode(expected));
    }

    [Fact]
    public void Decode_CharacterOutsideAlphabet_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => Base58.Decode("abc0"));
    }
}
