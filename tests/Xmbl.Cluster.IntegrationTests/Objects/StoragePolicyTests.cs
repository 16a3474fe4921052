using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Objects;

/// <summary>A silo with storage policies configured the way an operator would, in its command line.</summary>
public sealed class PolicySiloFixture : IAsyncLifetime
{
    private const string P = "--Xmbl:Storage:Policies:Namespaces";
    private readonly TempDirectory _data = new("xmbl-policies");

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync(
        _data.Path,
        // "limited": anyone may write, objects up to 1,000 bytes, 2,500 bytes in all, text only.
        $"{P}:0:Namespace", "limited", $"{P}:0:AccessLevel", "MeshGlobal",
        $"{P}:0:MaxObjectSize", "1000", $"{P}:0:QuotaBytes", "2500",
        $"{P}:0:AllowedContentTypes:0", "text/*",
        $"{P}:0:Grants:0:Account", "*", $"{P}:0:Grants:0:Operations", "All",
        // "archive": everyone reads and lists; only alice writes.
        $"{P}:1:Namespace", "archive", $"{P}:1:AccessLevel", "MeshGlobal", $"{P}:1:OwnerAccount", TestAccounts.Did("alice"),
        $"{P}:1:Grants:0:Account", "*", $"{P}:1:Grants:0:Operations", "Read, List",
        // "alice": private to alice (no grants).
        $"{P}:2:Namespace", "alice", $"{P}:2:AccessLevel", "MeshGlobal", $"{P}:2:OwnerAccount", TestAccounts.Did("alice"),
        // Each account may store 4,000 bytes in all.
        "--Xmbl:Storage:Policies:DefaultAccountQuotaBytes", "4000");

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

[Trait("Suite", "Functional")]
public sealed class StoragePolicyTests(PolicySiloFixture fixture) : IClassFixture<PolicySiloFixture>
{
    [Fact]
    public async Task Put_LargerThanTheNamespaceLimit_Answers413_AndNothingIsVisibleOrBilled()
    {
        using var put = await PutAsync("limited/too-big.txt", new byte[1001], "text/plain", "bob");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Silo.Http.GetAsync(new Uri("/api/objects/limited/too-big.txt", UriKind.Relative))).StatusCode);
        Assert.Equal(0, (await UsageAsync("account=" + TestAccounts.Did("bob"))).GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Put_PastTheNamespaceQuota_Answers403_AndKeepsUsageAtTheQuota()
    {
        for (var i = 0; i < 2; i++)
        {
            using var ok = await PutAsync($"limited/q{i}.txt", new byte[1000], "text/plain", "carol");
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        using var refused = await PutAsync("limited/q2.txt", new byte[1000], "text/plain", "carol");
        // Replacing an object frees its bytes first, so an overwrite of the same size still fits.
        using var overwrite = await PutAsync("limited/q1.txt", new byte[900], "text/plain", "carol");
        var usage = await UsageAsync("namespace=limited");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("quota", await refused.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Created, overwrite.StatusCode);
        Assert.Equal(1900, usage.GetProperty("bytes").GetInt64());
        Assert.Equal(2, usage.GetProperty("objects").GetInt32());
    }

    [Fact]
    public async Task Put_DisallowedContentType_Answers403()
    {
        using var put = await PutAsync("limited/image.png", [1, 2, 3], "image/png", "dave");

        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
    }

    [Fact]
    public async Task Archive_OnlyTheOwnerWrites_EveryoneReads()
    {
        using var stranger = await PutAsync("archive/a.bin", [1, 2, 3], "application/octet-stream", "eve");
        using var owner = await PutAsync("archive/a.bin", [1, 2, 3], "application/octet-stream", "alice");
        using var read = await fixture.Silo.Http.GetAsync(new Uri("/api/objects/archive/a.bin", UriKind.Relative));
        using var delete = new HttpRequestMessage(HttpMethod.Delete, new Uri("/api/objects/archive/a.bin", UriKind.Relative));
        using var strangerDelete = await fixture.Silo.As("eve").SendAsync(delete);

        Assert.Equal(HttpStatusCode.Forbidden, stranger.StatusCode);
        Assert.Equal(HttpStatusCode.Created, owner.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, strangerDelete.StatusCode);
    }

    [Fact]
    public async Task PrivateObject_ReadsOnlyWithTheOwnersSignature()
    {
        using var put = await PutAsync("alice/diary.txt", "dear diary"u8.ToArray(), "text/plain", "alice");
        using var unsigned = await fixture.Silo.Unsigned.GetAsync(new Uri("/api/objects/alice/diary.txt", UriKind.Relative));
        using var stranger = await fixture.Silo.As("bob").GetAsync(new Uri("/api/objects/alice/diary.txt", UriKind.Relative));
        using var owner = await fixture.Silo.As("alice").GetAsync(new Uri("/api/objects/alice/diary.txt", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, stranger.StatusCode);
        Assert.Equal("dear diary", await owner.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnconfiguredNamespace_IsRefusedOnceAnyPolicyIsConfigured()
    {
        using var put = await PutAsync("elsewhere/x", [1], "application/octet-stream", "frank");

        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Contains("no storage policy", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> PutAsync(string address, byte[] body, string contentType, string account)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri("/api/objects/" + address, UriKind.Relative)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return fixture.Silo.As(account).SendAsync(request);
    }

    private Task<JsonElement> UsageAsync(string query) => fixture.Silo.GetJsonAsync("/api/storage/usage?" + query);
}
