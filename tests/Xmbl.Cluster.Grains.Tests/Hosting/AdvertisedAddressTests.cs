using System.Net;
using Microsoft.Extensions.Configuration;
using Xmbl.Cluster.Hosting;

namespace Xmbl.Cluster.Grains.Tests.Hosting;

/// <summary>What a cluster-mode silo tells the others to dial: never a wildcard, a host name when it is given one.</summary>
[Trait("Suite", "BVT")]
public sealed class AdvertisedAddressTests
{
    [Fact]
    public void HostName_IsResolvedForOrleans_AndAnnouncedAsIsWithTheUrlsPort()
    {
        var (ip, url) = SiloServiceCollectionExtensions.Advertised(Config("localhost"), "http://0.0.0.0:5080");

        Assert.True(IPAddress.IsLoopback(ip));
        Assert.Equal("http://localhost:5080", url);
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080")]
    [InlineData("http://[::]:5080")]
    [InlineData("http://*:5080")]
    [InlineData("http://+:5080")]
    public void WildcardUrl_WithoutAnAdvertisedAddress_IsAnnouncedWithAnAddressOfThisMachine(string listen)
    {
        var (ip, url) = SiloServiceCollectionExtensions.Advertised(Config(null), listen);

        Assert.NotEqual(IPAddress.Any, ip);
        Assert.Equal($"http://{ip}:5080", url);
    }

    [Fact]
    public void AdvertisedIp_ReplacesTheUrlsHost_AndAnIpUrlIsKeptWhenNoneIsGiven()
    {
        Assert.Equal((IPAddress.Parse("10.1.2.3"), "http://10.1.2.3:5080"), SiloServiceCollectionExtensions.Advertised(Config("10.1.2.3"), "http://0.0.0.0:5080"));
        Assert.Equal((IPAddress.Parse("fd00::7"), "http://[fd00::7]:5080"), SiloServiceCollectionExtensions.Advertised(Config("fd00::7"), "http://0.0.0.0:5080"));
        Assert.Equal((IPAddress.Parse("192.0.2.9"), "http://192.0.2.9:5081"), SiloServiceCollectionExtensions.Advertised(Config(null), "http://192.0.2.9:5081"));
    }

    [Theory]
    [InlineData("not a host")]
    [InlineData("http://silo1")]
    [InlineData("no-such-host.invalid")]
    public void BadOrUnresolvableAdvertisedAddress_IsAConfigurationErrorNamingTheKey(string advertised)
    {
        var error = Assert.Throws<FormatException>(() => SiloServiceCollectionExtensions.Advertised(Config(advertised), "http://0.0.0.0:5080"));

        Assert.Contains(SiloConfiguration.AdvertisedAddressKey, error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Config(string? advertised) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [SiloConfiguration.AdvertisedAddressKey] = advertised }).Build();
}
