using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Xmbl.Cluster.Grains.Tests.Gateway;

/// <summary>The REST API answers every error as problem details, bounds every body and pages every listing alike.</summary>
[Trait("Suite", "Functional")]
public sealed class RestCoherenceTests
{
    [Fact]
    public async Task EveryKindOfError_IsProblemJson_AndA500SaysNothingOfTheServersInternals()
    {
        await using var gateway = await GatewayApp.StartAsync(map: app =>
            app.MapGet("/test/throws", static string () => throw new InvalidOperationException("secret connection string Host=db;Password=hunter2")));

        await AssertProblemAsync(await gateway.Http.GetAsync(new Uri("/api/no-such-route", UriKind.Relative)), HttpStatusCode.NotFound);
        using (var wrongMethod = await gateway.Http.DeleteAsync(new Uri("/api/cluster", UriKind.Relative)))
        {
            await AssertProblemAsync(wrongMethod, HttpStatusCode.MethodNotAllowed);
            Assert.Contains("GET", wrongMethod.Content.Headers.Allow);
        }

        using (var badJson = await gateway.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), new StringContent("{\"module\": ", System.Text.Encoding.UTF8, "application/json")))
        {
            var problem = await AssertProblemAsync(badJson, HttpStatusCode.BadRequest);
            Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var form = await gateway.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), new StringContent("module=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")))
        {
            await AssertProblemAsync(form, HttpStatusCode.UnsupportedMediaType);
        }

        using var thrown = await gateway.Http.GetAsync(new Uri("/test/throws", UriKind.Relative));
        var failure = await AssertProblemAsync(thrown, HttpStatusCode.InternalServerError);
        var text = failure.GetRawText();
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.True(failure.TryGetProperty("traceId", out _));
    }

    [Fact]
    public async Task ABodyOverTheDefaultLimit_Is413Problem_WhetherDeclaredOrChunked()
    {
        await using var gateway = await GatewayApp.StartAsync(
            new Dictionary<string, string?> { ["Xmbl:Gateway:MaxRequestBodyBytes"] = "1024" },
            map: app => app.MapPost("/test/reads-body", static async (HttpContext context) =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                return Results.NoContent();
            }));

        // Declared: refused before the endpoint runs (the repair endpoint takes no body; its caller is the trusted loopback operator).
        using (var declared = await gateway.Http.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), new ByteArrayContent(new byte[2048])))
        {
            var problem = await AssertProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("Xmbl:Gateway:MaxRequestBodyBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(declared.Headers.ConnectionClose, "a refusal of an unread body says the connection closes");
        }

        // Far over the limit, asking to continue first: refused before a byte of the body is sent, and the client's next
        // request goes on a new connection rather than one the server closes.
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/storage/repair", UriKind.Relative)) { Content = new ByteArrayContent(new byte[32 << 20]) })
        {
            request.Headers.ExpectContinue = true;
            using var large = await gateway.Http.SendAsync(request);
            Assert.True(large.Headers.ConnectionClose);
            await AssertProblemAsync(large, HttpStatusCode.RequestEntityTooLarge);
        }

        using (var next = await gateway.Http.GetAsync(new Uri("/api/cluster", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        // Chunked: Kestrel cuts it where it passes the limit.
        using (var chunked = await gateway.Http.PostAsync(new Uri("/test/reads-body", UriKind.Relative), new StreamContent(new MemoryStream(new byte[4096]))))
        {
            await AssertProblemAsync(chunked, HttpStatusCode.RequestEntityTooLarge);
        }

        using var within = await gateway.Http.PostAsync(new Uri("/test/reads-body", UriKind.Relative), new ByteArrayContent(new byte[1000]));
        Assert.Equal(HttpStatusCode.NoContent, within.StatusCode);
    }

    [Theory]
    [InlineData("/api/jobs")]
    [InlineData("/api/objects/public")]
    public async Task EveryListing_PagesAlike_WithTheConfiguredDefaultAndMaximum(string path)
    {
        await using var gateway = await GatewayApp.StartAsync(new Dictionary<string, string?>
        {
            ["Xmbl:Gateway:DefaultPageSize"] = "2",
            ["Xmbl:Gateway:MaxPageSize"] = "5",
        });

        using (var tooMany = await gateway.Http.GetAsync(new Uri(path + "?limit=6", UriKind.Relative)))
        {
            var problem = await AssertProblemAsync(tooMany, HttpStatusCode.BadRequest);
            Assert.Equal("limit must be a whole number from 1 to 5.", problem.GetProperty("detail").GetString());
        }

        using var page = await gateway.Http.GetAsync(new Uri(path + "?limit=5", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var json = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("items").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task History_PagesWithTheSameLimits()
    {
        await using var gateway = await GatewayApp.StartAsync(new Dictionary<string, string?> { ["Xmbl:Gateway:DefaultPageSize"] = "2", ["Xmbl:Gateway:MaxPageSize"] = "5" });
        using var key = Xmbl.Cluster.Identity.Ed25519KeyPair.Generate();
        var did = key.PublicKey.Did;

        using var tooMany = await gateway.Http.GetAsync(new Uri($"/api/accounts/{did}/history?limit=6", UriKind.Relative));

        var problem = await AssertProblemAsync(tooMany, HttpStatusCode.BadRequest);
        Assert.Equal("limit must be a whole number from 1 to 5.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task GetJob_FollowsEachJobUntilFinal_ThenAnswersItsFinalRecord_AlsoPastTheKeptAnswersBound()
    {
        // Room for 2 kept answers, 3 jobs: the first is dropped from memory and read again from storage.
        await using var gateway = await GatewayApp.StartAsync(new Dictionary<string, string?> { ["Xmbl:Gateway:FinalJobCacheEntries"] = "2" });
        await gateway.FundAsync();
        using var upload = await gateway.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), new ByteArrayContent(Jobs.ComputeSilo.Fixture("hello.wasm")));
        var hash = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("hash").GetString();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var submit = await gateway.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), new StringContent($$"""{"module":"{{hash}}","validators":1}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, submit.StatusCode);
            ids.Add(JsonDocument.Parse(await submit.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var id in ids)
        {
            // A job not final is read fresh each time: were it kept, this would never see it settle.
            while ((await GetJobAsync(gateway, id)).GetProperty("status").GetString() != "Settled")
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        var jobs = gateway.Services.GetRequiredService<Xmbl.Cluster.Grains.Jobs.JobService>();
        for (var round = 0; round < 2; round++)
        {
            foreach (var id in ids)
            {
                var stored = (await jobs.GetAsync(id))!;
                var answered = await GetJobAsync(gateway, id);
                Assert.Equal(id, answered.GetProperty("id").GetString());
                Assert.Equal("Settled", answered.GetProperty("status").GetString());
                Assert.Equal(stored.Transitions.Count, answered.GetProperty("transitions").GetArrayLength());
                Assert.Equal(stored.UpdatedAt, answered.GetProperty("updatedAt").GetDateTimeOffset());
            }
        }
    }

    private static async Task<JsonElement> GetJobAsync(GatewayApp gateway, string id)
    {
        using var response = await gateway.Http.GetAsync(new Uri("/api/jobs/" + id, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("title").GetString()));
        return json.RootElement.Clone();
    }
}
