using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Options;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "Functional")]
public class P2PServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddP2PHost_BindsOptionsAndListensWhileRunning()
    {
        using var key = Ed25519KeyPair.Generate();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["P2P:ListenAddresses:0"] = "/ip4/127.0.0.1/tcp/0",
            ["P2P:MaxInboundStreams"] = "7",
            ["P2P:IdleTimeout"] = "00:05:00",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddP2PHost(configuration, _ => key);
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<P2POptions>>().Value;
        Assert.Equal(7, options.MaxInboundStreams);
        Assert.Equal(TimeSpan.FromMinutes(5), options.IdleTimeout);
        var hosted = provider.GetServices<IHostedService>().Single();
        await hosted.StartAsync(CancellationToken.None);
        var host = provider.GetRequiredService<P2PHost>();
        var address = Assert.Single(host.ListenAddresses);
        Assert.Equal(host.PeerId, address.PeerId);

        using var clientKey = Ed25519KeyPair.Generate();
        await using var client = new P2PHost(clientKey);
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        Assert.True(await client.PingAsync(connection, CancellationToken.None) > TimeSpan.Zero);
        await hosted.StopAsync(CancellationToken.None);
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void AddP2PHost_InvalidConfiguration_FailsNamingTheKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["P2P:MaxConnections"] = "0",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddP2PHost(configuration, _ => Ed25519KeyPair.Generate());
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<P2POptions>>().Value);
        Assert.Contains("P2P:MaxConnections", error.Message, StringComparison.Ordinal);
    }
}
