using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Objects;

/// <summary>One embedded silo (five logical nodes, 3-of-5 coding) shared by the object API tests.</summary>
public sealed class EmbeddedSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-objects");

    public SiloProcess Silo { get; private set; } = null!;

    public string DataDirectory => _data.Path;

    // Small shards so modest test objects still span several stripes.
    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync(_data.Path, "--Xmbl:Storage:ShardSize", "65536", "--Xmbl:Storage:RepairPeriod", "00:00:00");

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

[Trait("Suite", "Functional")]
public sealed class ObjectApiTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    private HttpClient Http => fixture.Silo.Http;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_536 * 3)]
    [InlineData(1_000_003)]
    public async Task Put_ThenGet_ReturnsTheSameBytesAndHash(int size)
    {
        var data = RandomBytes(size, seed: size);
        var name = $"roundtrip/{size}.bin";

        using var put = await Http.PutAsync(Url(name), Body(data, "application/x-test"));
        var putBody = await put.Content.ReadAsStringAsync();
        using var get = await Http.GetAsync(Url(name));
        var got = await get.Content.ReadAsByteArrayAsync();

        Assert.True(put.StatusCode == HttpStatusCode.Created, putBody);
        var created = JsonDocument.Parse(putBody).RootElement;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), created.GetProperty("sha256").GetString());
        Assert.Equal(3, created.GetProperty("dataShards").GetInt32());
        Assert.Equal(2, created.GetProperty("parityShards").GetInt32());
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("application/x-test", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(data, got);
    }

    [Fact]
    public async Task Get_WithRange_ReturnsPartialContent()
    {
        var data = RandomBytes(500_000, seed: 7);
        await PutOkAsync("range/object", data);

        using var request = new HttpRequestMessage(HttpMethod.Get, Url("range/object"));
        request.Headers.Range = new RangeHeaderValue(200_000, 399_999);
        using var partial = await Http.SendAsync(request);
        using var suffixRequest = new HttpRequestMessage(HttpMethod.Get, Url("range/object"));
        suffixRequest.Headers.Range = new RangeHeaderValue(null, 10);
        using var suffix = await Http.SendAsync(suffixRequest);
        using var beyondRequest = new HttpRequestMessage(HttpMethod.Get, Url("range/object"));
        beyondRequest.Headers.Range = new RangeHeaderValue(600_000, null);
        using var beyond = await Http.SendAsync(beyondRequest);

        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes 200000-399999/500000", partial.Content.Headers.ContentRange?.ToString());
        Assert.Equal(data.AsSpan(200_000, 200_000).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(data.AsSpan(499_990).ToArray(), await suffix.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
    }

    [Fact]
    public async Task Head_ReturnsLengthAndHashWithoutBody()
    {
        var data = RandomBytes(12_345, seed: 3);
        await PutOkAsync("head/object", data);

        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url("head/object")));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(12_345, head.Content.Headers.ContentLength);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), head.Headers.GetValues("X-Xmbl-Sha256").Single());
    }

    [Fact]
    public async Task Delete_RemovesTheObjectAndItsShards()
    {
        await PutOkAsync("delete/object", RandomBytes(300_000, seed: 4));
        var shardsBefore = ShardFileCount();

        using var delete = await Http.DeleteAsync(Url("delete/object"));
        using var get = await Http.GetAsync(Url("delete/object"));
        using var deleteAgain = await Http.DeleteAsync(Url("delete/object"));

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, deleteAgain.StatusCode);
        // 300,000 bytes in 64 KiB shards: 2 stripes x 5 shards reclaimed.
        Assert.Equal(shardsBefore - 10, ShardFileCount());
    }

    [Fact]
    public async Task List_ByPrefix_PagesInNameOrder()
    {
        foreach (var n in new[] { "c", "a", "b", "d" })
        {
            await PutOkAsync($"list/{n}", [1, 2, 3]);
        }

        await PutOkAsync("other/x", [1]);

        var first = await fixture.Silo.GetJsonAsync("/api/objects/it?prefix=list/&limit=3");
        var next = first.GetProperty("next").GetString();
        var second = await fixture.Silo.GetJsonAsync($"/api/objects/it?prefix=list/&limit=3&after={Uri.EscapeDataString(next!)}");

        Assert.Equal(["list/a", "list/b", "list/c"], Names(first));
        Assert.Equal(["list/d"], Names(second));
    }

    [Fact]
    public async Task Overwrite_ConcurrentWriters_LeaveOneWritersWholeObject()
    {
        var versions = Enumerable.Range(0, 6).Select(i => RandomBytes(200_000, seed: 100 + i)).ToArray();

        var puts = await Task.WhenAll(versions.Select(v => Http.PutAsync(Url("race/object"), Body(v, "application/octet-stream"))));
        var final = await Http.GetByteArrayAsync(Url("race/object"));

        Assert.All(puts, p => Assert.Equal(HttpStatusCode.Created, p.StatusCode));
        Assert.Contains(versions, v => v.AsSpan().SequenceEqual(final));
    }

    [Theory]
    [InlineData("BAD", "x")]
    [InlineData("it", "a%01b")]
    [InlineData("it", "a//b")]
    public async Task Put_InvalidAddress_Answers400WithProblemDetails(string ns, string name)
    {
        using var put = await Http.PutAsync(new Uri($"/api/objects/{ns}/{name}", UriKind.Relative), Body([1], "application/octet-stream"));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Put_CutOffMidway_LeavesNothingVisibleOrStored()
    {
        var shardsBefore = ShardFileCount();
        using (var client = new HttpClient { BaseAddress = fixture.Silo.BaseAddress })
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, Url("cut/object"))
            {
                Content = new StreamContent(new FailingStream(failAfter: 400_000)),
            };
            request.Content.Headers.ContentLength = 1_000_000;
            await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(request));
        }

        // The server notices the broken upload, removes what it wrote and never commits. It may still be writing the
        // stripes it had read when the client gave up, so the count must be back and stay back, not just match once.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var stableSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            if (ShardFileCount() != shardsBefore)
            {
                stableSince = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - stableSince > TimeSpan.FromSeconds(2))
            {
                break;
            }

            await Task.Delay(50);
        }

        using var get = await Http.GetAsync(Url("cut/object"));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(shardsBefore, ShardFileCount());
    }

    [Fact]
    public async Task Get_AfterFlippingAByteInAShardFile_StillCorrect_AndRepairRewritesTheShard()
    {
        var data = RandomBytes(400_000, seed: 11);
        await PutOkAsync("scrub/object", data);
        var shard = ShardFiles().OrderByDescending(File.GetLastWriteTimeUtc).First();
        var bytes = await File.ReadAllBytesAsync(shard);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(shard, bytes);

        var read = await Http.GetByteArrayAsync(Url("scrub/object"));
        var healthBefore = await fixture.Silo.GetJsonAsync("/api/objects/it/scrub/object?health");
        using var repair = await fixture.Silo.Operator.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
        var healthAfter = await fixture.Silo.GetJsonAsync("/api/objects/it/scrub/object?health");

        Assert.Equal(data, read);
        Assert.False(healthBefore.GetProperty("fullyHealthy").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, repair.StatusCode);
        Assert.True(JsonDocument.Parse(await repair.Content.ReadAsStringAsync()).RootElement.GetProperty("repairedShards").GetInt32() >= 1);
        Assert.True(healthAfter.GetProperty("fullyHealthy").GetBoolean());
        Assert.Equal(data, await Http.GetByteArrayAsync(Url("scrub/object")));
    }

    private async Task PutOkAsync(string name, byte[] data)
    {
        using var put = await Http.PutAsync(Url(name), Body(data, "application/octet-stream"));
        Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
    }

    private int ShardFileCount() => ShardFiles().Count();

    // Shard files live at {data}/nodes/node-N/shards/shards/{first two chars}/{shard id}.
    private IEnumerable<string> ShardFiles() =>
        Directory.EnumerateFiles(Path.Combine(fixture.DataDirectory, "nodes"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(f))) == "shards"
                && Path.GetFileName(Path.GetDirectoryName(f))!.Length <= 2);

    private static string[] Names(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()!)];

    private static Uri Url(string name) => new($"/api/objects/it/{name}", UriKind.Relative);

    private static ByteArrayContent Body(byte[] data, string contentType)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A body that breaks after some bytes, like a client that drops mid-upload.</summary>
    private sealed class FailingStream(int failAfter) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("client dropped the upload");
            }

            var n = Math.Min(count, failAfter - _position);
            buffer.AsSpan(offset, n).Fill(0x5A);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
