using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class VarintTests
{
    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(1UL, "01")]
    [InlineData(127UL, "7F")]
    [InlineData(128UL, "8001")]
    [InlineData(421UL, "A503")]
    [InlineData(ulong.MaxValue, "FFFFFFFFFFFFFFFFFF01")]
    public void Varint_WriteAndRead_RoundTrip(ulong value, string hex)
    {
        Span<byte> buffer = stackalloc byte[Varint.MaxLength64];
        var n = Varint.Write(buffer, value);
        Assert.Equal(hex, Convert.ToHexString(buffer[..n]));
        Assert.Equal(n, Varint.GetLength(value));
        Assert.Equal(value, Varint.Read(buffer[..n], out var consumed));
        Assert.Equal(n, consumed);
    }

    [Fact]
    public void Varint_Truncated_AsksForMoreInput() => Assert.Equal(0, Varint.TryRead([0x80, 0x80], out _));

    [Theory]
    [InlineData("8000")]                  // not minimal
    [InlineData("FFFFFFFFFFFFFFFFFF02")]  // overflows 64 bits
    [InlineData("808001")]                // longer than 2 bytes when limited to 2
    public void Varint_Malformed_IsRefused(string hex) =>
        Assert.Throws<FormatException>(() => Varint.TryRead(Convert.FromHexString(hex), out _, hex == "808001" ? 2 : Varint.MaxLength64));
}
