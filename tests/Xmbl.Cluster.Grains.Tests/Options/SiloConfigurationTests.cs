using Microsoft.Extensions.Configuration;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Grains.Tests.Options;

[Trait("Suite", "BVT")]
public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData(new[] { "--trust-loopback" }, "true", null)]
    [InlineData(new[] { "--trust-loopback", "--nodes", "3" }, "true", "3")]
    [InlineData(new[] { "--nodes", "3", "--trust-loopback" }, "true", "3")]
    [InlineData(new[] { "--trust-loopback", "false", "--nodes", "2" }, "false", "2")]
    [InlineData(new[] { "--nodes", "4" }, null, "4")]
    public void TrustLoopback_StandsAloneAsAFlag_OrTakesAValue(string[] args, string? trust, string? nodes)
    {
        var configuration = new ConfigurationBuilder().AddSiloShortForms(args).Build();

        Assert.Equal(trust, configuration["Xmbl:Gateway:TrustLoopback"]);
        Assert.Equal(nodes, configuration["Xmbl:Node:Count"]);
    }

    [Fact]
    public void OperatorDid_SetsTheGatewayOperator()
    {
        var configuration = new ConfigurationBuilder().AddSiloShortForms(["--operator-did", "did:key:z6Mk"]).Build();

        Assert.Equal("did:key:z6Mk", configuration["Xmbl:Gateway:Operator"]);
    }
}
