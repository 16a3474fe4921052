using Xmbl.Cluster.Gateway.P2P;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>Every limit of <c>Xmbl:Gateway:P2P</c> is checked at start, and the message names the key.</summary>
[Trait("Suite", "BVT")]
public sealed class BridgeOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndLeaveTheBridgeOff()
    {
        var options = new P2PBridgeOptions();

        Assert.True(new P2PBridgeOptionsValidator().Validate(null, options).Succeeded);
        Assert.Null(options.Port);
        Assert.Equal((65536, 1 << 20, 32), (options.MaxMessageBytes, options.MaxFrameBytes, options.MaxStreamsPerConnection));
        Assert.Equal(TimeSpan.FromSeconds(30), options.EdgeShardTimeout);
        Assert.Equal(16L << 20, options.EdgeShardQueueBytes);
        Assert.Null(options.EdgeShardUrl);
    }

    [Theory]
    [InlineData(1000L)]
    [InlineData(2L << 30)]
    public void OutOfRangeEdgeShardQueueBytes_IsRefused_NamingTheKey(long bytes)
    {
        var result = new P2PBridgeOptionsValidator().Validate(null, new P2PBridgeOptions { EdgeShardQueueBytes = bytes });

        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Gateway:P2P:EdgeShardQueueBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(601)]
    public void OutOfRangeEdgeShardTimeout_IsRefused_NamingTheKey(double seconds)
    {
        var options = new P2PBridgeOptions { EdgeShardTimeout = TimeSpan.FromSeconds(seconds) };

        var result = new P2PBridgeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Gateway:P2P:EdgeShardTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gateway:5090")]
    [InlineData("ftp://10.0.0.5/")]
    [InlineData("/relative")]
    public void EdgeShardUrl_NotAnAbsoluteHttpUrl_IsRefused_NamingTheKey(string url)
    {
        var result = new P2PBridgeOptionsValidator().Validate(null, new P2PBridgeOptions { EdgeShardUrl = url });

        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Gateway:P2P:EdgeShardUrl", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.5:5090", "http://10.0.0.5:5090")]
    [InlineData("https://gateway.example:8443/", "https://gateway.example:8443")]
    [InlineData("http://127.0.0.1:5090/api", "http://127.0.0.1:5090")]
    public void EdgeShardAddress_IsTheUrlsSchemeHostAndPort(string url, string announced) =>
        Assert.Equal(announced, NodeProtocol.Advertised(url));

    [Theory]
    [InlineData("http://0.0.0.0:5090")]
    [InlineData("http://[::]:5090")]
    [InlineData("http://*:5090")]
    [InlineData("http://+:5090")]
    public void EdgeShardAddress_OfAWildcardHost_IsAnAddressOtherMembersCanDial(string url)
    {
        var announced = new Uri(NodeProtocol.Advertised(url));

        Assert.Equal(5090, announced.Port);
        Assert.True(System.Net.IPAddress.TryParse(announced.Host, out var ip), announced.Host);
        Assert.False(ip.Equals(System.Net.IPAddress.Any) || ip.Equals(System.Net.IPAddress.IPv6Any));
    }

    [Theory]
    [InlineData("Port", 70000)]
    [InlineData("MaxMessageBytes", 100)]
    [InlineData("MaxFrameBytes", 32 << 20)]
    [InlineData("MaxStreamsPerConnection", 0)]
    public void OutOfRangeLimit_IsRefused_NamingTheKey(string key, int value)
    {
        var options = new P2PBridgeOptions();
        typeof(P2PBridgeOptions).GetProperty(key)!.SetValue(options, value);

        var result = new P2PBridgeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Xmbl:Gateway:P2P:{key}", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host", "::1")]
    [InlineData("Host", "localhost")]
    [InlineData("AdvertisedHost", "gateway.example")]
    public void NonIpv4Address_IsRefused_NamingTheKey(string key, string value)
    {
        var options = new P2PBridgeOptions();
        typeof(P2PBridgeOptions).GetProperty(key)!.SetValue(options, value);

        var result = new P2PBridgeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Xmbl:Gateway:P2P:{key}", result.FailureMessage, StringComparison.Ordinal);
    }
}
