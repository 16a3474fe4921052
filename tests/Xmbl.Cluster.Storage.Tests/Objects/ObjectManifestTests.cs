using System.Text.Json;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Tests.Support;

namespace Xmbl.Cluster.Storage.Tests.Objects;

public sealed class ObjectManifestTests
{
    [Fact]
    [Trait("Suite", "BVT")]
    public async Task Json_RoundTrip_KeepsEverythingAndStillReads()
    {
        using var nodes = new LocalNodes(5);
        var data = TestData.Bytes(30_000);
        var manifest = await new ObjectWriter(nodes.Client).WriteAsync(new ObjectWriteRequest("ns", "a/b.txt") { ShardSize = 4096, ContentType = "text/plain" }, new MemoryStream(data), nodes.Candidates());
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);

        var json = JsonSerializer.Serialize(manifest, options);
        var back = JsonSerializer.Deserialize<ObjectManifest>(json, options)!;

        Assert.Equal(json, JsonSerializer.Serialize(back, options));
        Assert.Equal(manifest.Stripes[1].Shards[3], back.Stripes[1].Shards[3]);
        Assert.Contains($"\"shardId\":\"{manifest.Stripes[0].Shards[0].ShardId.Value}\"", json, StringComparison.Ordinal);
        using var output = new MemoryStream();
        await new ObjectReader(nodes.Client).ReadAsync(back, output);
        Assert.Equal(data, output.ToArray());
    }
}
