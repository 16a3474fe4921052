using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Storage.Transport.Relay;

namespace Xmbl.Cluster.Storage.Tests.Transport;

/// <summary>
/// The shard relay between two real Kestrel hosts on loopback: a relay, and a "home" host that serves one node only
/// through the tunnels it opens to the relay (nothing dials the home host).
/// </summary>
public sealed class ShardRelayTests : IAsyncLifetime
{
    private const string Secret = "relay-test-cluster-secret-0123456789";
    private readonly LocalNodes _nodes = new(1);
    private readonly HttpClient _http = new();
    private WebApplication _relay = null!;
    private WebApplication? _home;
    private Uri _relayAddress = null!;

    public async Task InitializeAsync()
    {
        _relay = Host("relay", o =>
        {
            o.MaxTunnelsPerSilo = 3;
            o.TunnelWait = TimeSpan.FromSeconds(1);
        });
        await _relay.StartAsync();
        _relayAddress = new Uri(_relay.Urls.Single());
    }

    public async Task DisposeAsync()
    {
        if (_home is not null)
        {
            await _home.DisposeAsync();
        }

        await _relay.DisposeAsync();
        _http.Dispose();
        _nodes.Dispose();
    }

    private ShardRelayHub Hub => _relay.Services.GetRequiredService<ShardRelayHub>();

    private static ShardRequestAuthenticator Authenticator(string secret = Secret) => new(new ShardTransportOptions { ClusterSecret = secret });

    private WebApplication Host(string silo, Action<ShardRelayOptions> relay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel();
        builder.Services.AddSingleton(_nodes.Registry);
        builder.Services.AddHttpShardTransport(o => o.ClusterSecret = Secret);
        builder.Services.AddShardRelay(silo);
        builder.Services.Configure(relay);
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapShardRelay();
        return app;
    }

    private async Task StartHomeAsync(int tunnels = 2)
    {
        _home = Host("home", o =>
        {
            o.Via = _relayAddress.ToString();
            o.Tunnels = tunnels;
            o.RetryDelay = TimeSpan.FromMilliseconds(100);
        });
        await _home.StartAsync();
        await WaitForTunnelsAsync(tunnels);
    }

    private async Task WaitForTunnelsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Hub.IdleTunnels("home") != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the relay holds {Hub.IdleTunnels("home")} idle tunnels of home, not {count}");
            await Task.Delay(20);
        }
    }

    private HttpShardClient Client(string silo = "home")
    {
        var resolver = new StaticShardNodeResolver();
        resolver.Set("node-0", ShardRelay.AddressFor(_relayAddress, silo));
        return new HttpShardClient(_http, resolver, Authenticator());
    }

    private HttpRequestMessage TunnelRequest(bool upgrade = true, string silo = "home")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ShardRelay.AddressFor(_relayAddress, silo), ShardRelay.TunnelSegment));
        if (upgrade)
        {
            request.Headers.Connection.Add("Upgrade");
            request.Headers.Upgrade.Add(new ProductHeaderValue(ShardRelay.UpgradeProtocol));
        }

        return request;
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task ShardRequests_ReachANodeThatOnlyDialsOut_ThroughTheRelay_AndUsedTunnelsAreReplaced()
    {
        await StartHomeAsync();
        var client = Client();
        var data = RandomNumberGenerator.GetBytes(3_000_001);
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        var id = ShardId.New();

        var info = await client.PutAsync("node-0", id, new MemoryStream(data), data.Length, sha);
        Assert.Equal(sha, info.Sha256);
        Assert.NotNull(await _nodes.Store("node-0").GetInfoAsync(id));
        await using (var read = await client.OpenReadAsync("node-0", id, sha))
        {
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(data, copy.ToArray());
        }

        Assert.Equal(id, Assert.Single(await client.ListAsync("node-0", after: null, limit: 10)).Id);
        Assert.Equal(1, (await client.GetStatsAsync("node-0")).ShardCount);
        Assert.True(await client.DeleteAsync("node-0", id));
        await Assert.ThrowsAsync<ShardNotFoundException>(() => client.OpenReadAsync("node-0", id, sha));

        // The tunnel the relay took is replaced: two idle ones wait again.
        await WaitForTunnelsAsync(2);
        Assert.True(_home!.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ShardRelayClient>().Single().TunnelsServed >= 1);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Relay_RefusesUnsignedRequests_TunnelsWithoutUpgrade_PathsThatAreNoShardRoute_AndTunnelsOverItsLimit()
    {
        using (var unsigned = await _http.SendAsync(TunnelRequest()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        }

        using (var foreign = TunnelRequest())
        {
            Authenticator("another-cluster-secret-0123456789").Sign(foreign);
            using var refused = await _http.SendAsync(foreign);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var plain = TunnelRequest(upgrade: false))
        {
            Authenticator().Sign(plain);
            using var refused = await _http.SendAsync(plain);
            Assert.Equal(HttpStatusCode.UpgradeRequired, refused.StatusCode);
        }

        using (var api = new HttpRequestMessage(HttpMethod.Get, new Uri(ShardRelay.AddressFor(_relayAddress, "home"), "api/cluster")))
        {
            Authenticator().Sign(api);
            using var refused = await _http.SendAsync(api);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        // The relay holds three idle tunnels of one silo (MaxTunnelsPerSilo 3): a fourth is refused with 429.
        await StartHomeAsync(tunnels: 3);
        using var fourth = TunnelRequest();
        Authenticator().Sign(fourth);
        using var response = await _http.SendAsync(fourth);
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(3, Hub.IdleTunnels("home"));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task RelayedRequest_ToASiloWithNoTunnel_Answers503AfterTunnelWait()
    {
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => Client("nobody").GetStatsAsync("node-0"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Contains("No tunnel from silo 'nobody'", e.Message, StringComparison.Ordinal);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task HomeHostStopping_ItsIdleTunnelsLeaveTheRelay()
    {
        await StartHomeAsync();
        await _home!.StopAsync();
        await _home.DisposeAsync();
        _home = null;
        await WaitForTunnelsAsync(0);
    }

    [Theory]
    [Trait("Suite", "Unit")]
    [InlineData("ftp://relay:21", 4, 64, "Via")]
    [InlineData("http://relay:5080/?x=1", 4, 64, "Via")]
    [InlineData("", 0, 64, "Tunnels")]
    [InlineData("", 65, 64, "Tunnels")]
    [InlineData("", 4, 0, "MaxTunnelsPerSilo")]
    public void Options_OutOfRange_FailNamingTheKey(string via, int tunnels, int maxPerSilo, string key)
    {
        var result = new ShardRelayOptionsValidator().Validate(null, new ShardRelayOptions { Via = via, Tunnels = tunnels, MaxTunnelsPerSilo = maxPerSilo });
        Assert.True(result.Failed);
        Assert.Contains($"Xmbl:Storage:Relay:{key}", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new ShardRelayOptionsValidator().Validate(null, new ShardRelayOptions { Via = "https://relay.example.net:5080" }).Succeeded);
    }

    [Theory]
    [Trait("Suite", "Unit")]
    [InlineData("http://relay:5080", "home-1", "http://relay:5080/internal/relay/home-1/")]
    [InlineData("https://relay.example.net/xmbl/", "s", "https://relay.example.net/xmbl/internal/relay/s/")]
    public void AddressFor_PutsTheSiloUnderTheRelaysPath(string via, string silo, string expected) =>
        Assert.Equal(expected, ShardRelay.AddressFor(new Uri(via), silo).ToString());

    [Theory]
    [Trait("Suite", "Unit")]
    [InlineData("")]
    [InlineData(".tunnel")]
    [InlineData("a/b")]
    [InlineData("a b")]
    public void AddressFor_RefusesSiloIdsThatCannotBeAPathSegment(string silo) =>
        Assert.Throws<ArgumentException>(() => ShardRelay.AddressFor(new Uri("http://relay:5080"), silo));
}
