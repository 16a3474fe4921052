using System.Net;
using System.Text.Json;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;

namespace Xmbl.Cluster.IntegrationTests.Objects;

/// <summary>
/// Object names have one spelling: the path segments after the namespace, percent-decoded once. Dot segments, encoded
/// slashes and invalid UTF-8 are refused with 400, never resolved, kept literally or replaced.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class ObjectNameTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    private HttpClient Http => fixture.Silo.Http;

    [Theory]
    [InlineData("a/../b")]
    [InlineData("a/./b")]
    [InlineData("a/%2e%2e/b")]
    [InlineData("..")]
    public async Task DotSegments_AreRefused_NotResolved(string name)
    {
        using var put = await PutAsync("dots/" + name);
        using var resolved = await Http.GetAsync(new Uri("/api/objects/dots/b", UriKind.Relative));

        await SubmissionValidationTests.ProblemAsync(put, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NotFound, resolved.StatusCode);
    }

    [Fact]
    public async Task EncodedSlash_IsRefused_AndAnEncodedPercentIsThePercentItself()
    {
        using var slash = await PutAsync("slash/a%2fb");
        using var percent = await PutAsync("slash/a%252fb");
        using var viaSlash = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, RawHttp.Exact(fixture.Silo.BaseAddress, "/api/objects/slash/a%2fb")));
        using var viaPercent = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, RawHttp.Exact(fixture.Silo.BaseAddress, "/api/objects/slash/a%252fb")));

        Assert.Contains("encoded slash", (await SubmissionValidationTests.ProblemAsync(slash, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, percent.StatusCode);
        Assert.Equal("a%2fb", JsonDocument.Parse(await percent.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, viaSlash.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaPercent.StatusCode);
    }

    [Theory]
    [InlineData("bad%ff")]
    [InlineData("bad%c3%28")]
    [InlineData("bad%ed%a0%80")]
    [InlineData("bad%")]
    [InlineData("bad%zz")]
    public async Task InvalidUtf8OrEscapes_AreRefused(string name)
    {
        using var put = await PutAsync("utf8/" + name);

        await SubmissionValidationTests.ProblemAsync(put, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("dir/file.txt", "dir/file.txt")]
    [InlineData("donn%C3%A9es/%C3%A9t%C3%A9.txt", "données/été.txt")]
    [InlineData("with%20space", "with space")]
    [InlineData("plus+sign~tilde", "plus+sign~tilde")]
    [InlineData("100%25", "100%")]
    public async Task ValidNames_KeepWorking(string written, string name)
    {
        using var put = await PutAsync("valid/" + written);
        using var get = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, RawHttp.Exact(fixture.Silo.BaseAddress, "/api/objects/valid/" + written)));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(name, JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal([1, 2, 3], await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ObjectListing_LastPage_SaysNextIsNull()
    {
        using var put = await PutAsync("paged/only");
        var page = await fixture.Silo.GetJsonAsync("/api/objects/paged?limit=10");

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.True(page.TryGetProperty("next", out var next), page.ToString());
        Assert.Equal(JsonValueKind.Null, next.ValueKind);
    }

    [Theory]
    [InlineData("/api/objects/paged?limit=abc")]
    [InlineData("/api/objects/paged?limit=0")]
    [InlineData("/api/jobs?limit=99999999999")]
    [InlineData("/api/jobs?limit=-1")]
    public async Task ListingLimit_NotAPageSize_Answers400SayingWhy(string url)
    {
        using var response = await Http.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Contains("limit must be", (await SubmissionValidationTests.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> PutAsync(string address) =>
        Http.SendAsync(new HttpRequestMessage(HttpMethod.Put, RawHttp.Exact(fixture.Silo.BaseAddress, "/api/objects/" + address)) { Content = new ByteArrayContent([1, 2, 3]) });
}
