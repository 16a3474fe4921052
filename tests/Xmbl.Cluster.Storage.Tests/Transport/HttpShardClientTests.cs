using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Tests.Support;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Storage.Tests.Transport;

/// <summary>The HTTP shard transport against a real Kestrel on a loopback port, serving five logical nodes.</summary>
public sealed class HttpShardClientTests : IAsyncLifetime
{
    private const string Secret = "test-cluster-secret-0123456789";
    private readonly LocalNodes _nodes = new(5);
    private readonly HttpClient _http = new();
    private WebApplication _app = null!;
    private Uri _baseAddress = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel();
        _app = builder.Build();
        _app.Urls.Add("http://127.0.0.1:0");
        _app.MapShardEndpoints(_nodes.Registry, new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret }));
        await _app.StartAsync();
        _baseAddress = new Uri(_app.Urls.Single());
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
        _nodes.Dispose();
    }

    private HttpShardClient Client(string secret = Secret, TimeProvider? time = null)
    {
        var resolver = new StaticShardNodeResolver();
        foreach (var id in _nodes.NodeIds)
        {
            resolver.Set(id, _baseAddress);
        }

        return new HttpShardClient(_http, resolver, new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = secret }, time));
    }

    private static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Shard_PutGetScrubStatsDelete_RoundTrips()
    {
        var client = Client();
        var data = TestData.Bytes(700_001);
        var id = ShardId.New();

        var info = await client.PutAsync("node-2", id, new MemoryStream(data), data.Length, Sha(data));
        Assert.Equal(Sha(data), info.Sha256);
        Assert.Equal(id, info.Id);
        Assert.NotNull(await _nodes.Store("node-2").GetInfoAsync(id));

        await using (var read = await client.OpenReadAsync("node-2", id, Sha(data)))
        {
            Assert.Equal(data, await ReadAllAsync(read));
        }

        Assert.Equal(ShardHealthStatus.Healthy, (await client.ScrubAsync("node-2", id)).Status);
        var stats = await client.GetStatsAsync("node-2");
        Assert.Equal(data.Length, stats.UsedBytes);
        Assert.Equal(1, stats.ShardCount);

        Assert.True(await client.DeleteAsync("node-2", id));
        Assert.False(await client.DeleteAsync("node-2", id));
        await Assert.ThrowsAsync<ShardNotFoundException>(() => client.OpenReadAsync("node-2", id, null));
        Assert.Equal(ShardHealthStatus.Missing, (await client.ScrubAsync("node-2", id)).Status);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Request_WithoutSignature_Gets401()
    {
        var response = await _http.GetAsync(new Uri(_baseAddress, "/internal/shards/node-0"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        using var put = new HttpRequestMessage(HttpMethod.Put, new Uri(_baseAddress, $"/internal/shards/node-0/{ShardId.New()}")) { Content = new ByteArrayContent([1, 2, 3]) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(put)).StatusCode);
        Assert.Equal(0, (await _nodes.Store("node-0").GetStatsAsync()).ShardCount);

        // The listing too, including with a malformed query that would otherwise be a 400.
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync(new Uri(_baseAddress, "/internal/shards/node-0/.list"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync(new Uri(_baseAddress, "/internal/shards/node-0/.list?limit=abc&after=..."))).StatusCode);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task List_SignedWithWrongSecret_Gets401()
    {
        await _nodes.Store("node-0").PutAsync(ShardId.New(), new MemoryStream([1, 2, 3]), 3);
        var stranger = Client(secret: "not-the-cluster-secret-at-all");

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => stranger.ListAsync("node-0", after: null, limit: 10));

        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task List_PagesThroughEveryShardInIdOrder_WithCreationTimes()
    {
        var client = Client();
        var ids = new List<ShardId>();
        for (var i = 0; i < 7; i++)
        {
            var id = ShardId.New();
            await client.PutAsync("node-1", id, new MemoryStream([(byte)i]), 1, null);
            ids.Add(id);
        }

        var listed = new List<ShardListing>();
        ShardId? after = null;
        int pages = 0;
        while (true)
        {
            var page = await client.ListAsync("node-1", after, limit: 3);
            pages++;
            listed.AddRange(page);
            if (page.Count < 3)
            {
                break;
            }

            after = page[^1].Id;
        }

        Assert.Equal(3, pages);
        Assert.Equal(ids.Select(i => i.Value).Order(StringComparer.Ordinal), listed.Select(l => l.Id.Value));
        foreach (var entry in listed)
        {
            Assert.Equal((await _nodes.Store("node-1").GetInfoAsync(entry.Id))!.CreatedUtc, entry.CreatedUtc);
        }

        Assert.Empty(await client.ListAsync("node-2", after: null, limit: ShardListing.MaxPageSize));
    }

    [Theory]
    [Trait("Suite", "Functional")]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=-1")]
    [InlineData("limit=99999999999")]
    [InlineData("after=.hidden")]
    public async Task List_PageSizeOutOfBoundsOrBadCursor_Gets400(string query)
    {
        var signer = new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret });
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseAddress, "/internal/shards/node-0/.list?" + query));
        signer.Sign(request);

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task List_PageSizeOutOfBounds_IsRefusedByTheClient()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client().ListAsync("node-0", null, ShardListing.MaxPageSize + 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => new LocalShardClient(_nodes.Registry).ListAsync("node-0", null, 0));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Request_SignedWithWrongSecret_IsRefused()
    {
        var stranger = Client(secret: "not-the-cluster-secret-at-all");
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => stranger.PutAsync("node-0", ShardId.New(), new MemoryStream([1]), 1, null));
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.Equal(0, (await _nodes.Store("node-0").GetStatsAsync()).ShardCount);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Request_StaleTimestamp_IsRefused()
    {
        var late = Client(time: new ManualTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10)));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => late.GetStatsAsync("node-0"));
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Request_Replayed_IsRefused()
    {
        var signer = new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret });
        using var first = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseAddress, "/internal/shards/node-0"));
        signer.Sign(first);
        using var replay = new HttpRequestMessage(HttpMethod.Get, first.RequestUri);
        foreach (var header in first.Headers)
        {
            replay.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(replay)).StatusCode);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Request_SignatureForOtherPath_IsRefused()
    {
        var signer = new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret });
        using var signed = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseAddress, "/internal/shards/node-0"));
        signer.Sign(signed);
        using var moved = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseAddress, "/internal/shards/node-1"));
        foreach (var header in signed.Headers)
        {
            moved.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(moved)).StatusCode);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Get_CorruptShardFile_ClientThrowsShardCorrupt()
    {
        var client = Client();
        var data = TestData.Bytes(200_000);
        var id = ShardId.New();
        await client.PutAsync("node-1", id, new MemoryStream(data), data.Length, Sha(data));
        var placement = new ShardPlacement(0, "node-1", id, Sha(data));
        var path = _nodes.ShardFile(placement);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[123_456] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);

        await using var read = await client.OpenReadAsync("node-1", id, Sha(data));
        var e = await Assert.ThrowsAsync<ShardCorruptException>(() => ReadAllAsync(read));
        Assert.Equal(id, e.ShardId);
        Assert.Equal(ShardHealthStatus.Corrupt, (await client.ScrubAsync("node-1", id)).Status);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Put_BodyDiffersFromAnnouncedHash_ThrowsCorruptAndStoresNothing()
    {
        var client = Client();
        var id = ShardId.New();
        await Assert.ThrowsAsync<ShardCorruptException>(() => client.PutAsync("node-0", id, new MemoryStream(new byte[1000]), 1000, Sha([9])));
        Assert.Null(await _nodes.Store("node-0").GetInfoAsync(id));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Request_NodeNotHostedThere_ThrowsNodeUnavailable()
    {
        var resolver = new StaticShardNodeResolver([new("node-9", _baseAddress.ToString())]);
        var client = new HttpShardClient(_http, resolver, new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret }));
        await Assert.ThrowsAsync<ShardNodeUnavailableException>(() => client.GetStatsAsync("node-9"));
        await Assert.ThrowsAsync<ShardNodeUnavailableException>(() => Client().GetStatsAsync("node-unknown"));
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Object_WriteAndReadOverHttpWithCorruptShard_ReturnsIdenticalBytes()
    {
        var client = Client();
        var data = TestData.Bytes(3 * 65536 * 2 + 777);
        var request = new ObjectWriteRequest("ns", "over-http") { ShardSize = 65536 };
        var manifest = await new ObjectWriter(client).WriteAsync(request, new MemoryStream(data), _nodes.Candidates());
        var victim = manifest.Stripes[0].Shards[1];
        var path = _nodes.ShardFile(victim);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^1] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        using var output = new MemoryStream();
        var result = await new ObjectReader(client).ReadAsync(manifest, output);

        Assert.Equal(data, output.ToArray());
        Assert.Equal(victim.ShardId, Assert.Single(result.FailedShards).Shard.ShardId);
    }

    [Fact]
    [Trait("Suite", "Functional")]
    public async Task Shard_NodeIdIsDidKey_RoundTrips()
    {
        using var dir = new TempDirectory();
        const string node = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        using var store = new LocalShardStore([new StorageVolumeOptions { Name = "v", Path = dir.Path }]);
        _nodes.Registry.Add(node, store);
        var client = new HttpShardClient(_http, new StaticShardNodeResolver([new(node, _baseAddress.ToString())]), new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret }));
        var data = TestData.Bytes(1000);
        var id = ShardId.New();

        await client.PutAsync(node, id, new MemoryStream(data), data.Length, Sha(data));

        await using var read = await client.OpenReadAsync(node, id, null);
        Assert.Equal(data, await ReadAllAsync(read));
        Assert.NotNull(await store.GetInfoAsync(id));
    }
}
