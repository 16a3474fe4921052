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
