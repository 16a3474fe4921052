using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class MultiaddrTests
{
    [Fact]
    public void Multiaddr_Ip4Tcp_EncodesAsTheSpecExample()
    {
        var address = Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001");
        Assert.Equal(Convert.FromHexString("047F000001060FA1"), address.Bytes.ToArray());
        Assert.Equal("/ip4/127.0.0.1/tcp/4001", address.ToString());
    }

    [Theory]
    [InlineData("/ip4/10.1.2.3/tcp/0")]
    [InlineData("/ip6/::1/tcp/4001")]
    [InlineData("/ip6/2001:db8::42/tcp/65535")]
    [InlineData("/dns4/example.org/tcp/443")]
    [InlineData("/dns6/example.org/tcp/443")]
    [InlineData("/dns/node-1.example.org/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")]
    public void Multiaddr_TextAndBinary_RoundTrip(string text)
    {
        var address = Multiaddr.Parse(text);
        Assert.Equal(text, address.ToString());
        var decoded = Multiaddr.FromBytes(address.Bytes);
        Assert.Equal(address, decoded);
        Assert.Equal(text, decoded.ToString());
    }

    [Fact]
    public void Multiaddr_P2pComponent_UsesVarintCodeA503AndLengthPrefix()
    {
        var address = Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
        var bytes = address.Bytes.ToArray();
        Assert.Equal(new byte[] { 0xA5, 0x03, 38, 0x00, 0x24 }, bytes[8..13]);
        Assert.Equal("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", address.PeerId!.ToString());
    }

    [Fact]
    public void Multiaddr_IpfsAlias_ParsesAsP2pAndIsWrittenAsP2p()
    {
        var address = Multiaddr.Parse("/ip4/1.2.3.4/tcp/1/ipfs/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
        Assert.StartsWith("/ip4/1.2.3.4/tcp/1/p2p/", address.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Multiaddr_CidPeerId_IsAcceptedAndWrittenAsBase58()
    {
        var address = Multiaddr.Parse("/ip4/1.2.3.4/tcp/1/p2p/bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6");
        Assert.Equal("/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", address.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ip4/1.2.3.4")]
    [InlineData("/ip4/1.2.3")]
    [InlineData("/ip4/::1")]
    [InlineData("/ip6/1.2.3.4")]
    [InlineData("/tcp/65536")]
    [InlineData("/tcp/-1")]
    [InlineData("/tcp")]
    [InlineData("/udp/53")]
    [InlineData("/p2p/notbase58!")]
    [InlineData("/dns4/a b")]
    public void Multiaddr_BadText_IsRefusedWithFormatException(string text) =>
        Assert.Throws<FormatException>(() => Multiaddr.Parse(text));

    [Theory]
    [InlineData("04 7F 00 00")]          // truncated ip4
    [InlineData("06 0F")]                // truncated port
    [InlineData("A5 03 05 00 03 01 02")] // p2p value shorter than its length
    [InlineData("A5 03 00")]             // empty p2p
    [InlineData("91 02 00 35")]          // udp: unsupported
    [InlineData("80 80 80 80 01")]       // code varint too long
    [InlineData("")]
    public void Multiaddr_BadBinary_IsRefusedWithFormatException(string hex) =>
        Assert.Throws<FormatException>(() => Multiaddr.FromBytes(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal))));

    [Fact]
    public void Multiaddr_TcpTarget_ReadsHostAndPort()
    {
        Assert.True(Multiaddr.Parse("/dns4/example.org/tcp/443").TryGetTcpTarget(out var host, out var port, out var family));
        Assert.Equal(("example.org", 443, System.Net.Sockets.AddressFamily.InterNetwork), (host, port, family));
        Assert.False(Multiaddr.Parse("/ip4/1.2.3.4").TryGetTcpTarget(out _, out _, out _));
    }

    [Fact]
    public void Multiaddr_WithPeerId_AppendsAndReplaces()
    {
        using var key = Ed25519KeyPair.Generate();
        var peer = PeerId.FromPublicKey(key.PublicKey);
        var address = Multiaddr.Parse("/ip4/127.0.0.1/tcp/1").WithPeerId(peer);
        Assert.Equal(peer, address.PeerId);
        Assert.Equal("/ip4/127.0.0.1/tcp/1", address.WithoutPeerId().ToString());
        Assert.Equal(address, address.WithPeerId(peer));
    }
}
