using System.Net;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.IntegrationTests.Support;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary><c>POST /api/jobs</c> refuses bad bodies with 400 (or 413) problem details naming each field, never 201 or 500.</summary>
[Trait("Suite", "Functional")]
public sealed class SubmissionValidationTests(ApiSiloFixture fixture) : IClassFixture<ApiSiloFixture>
{
    private const int MaxJobRequestBytes = 48 << 20;

    [Fact]
    public async Task NullsInArgsEnvAndInputObjects_Answer400NamingEachPath()
    {
        var errors = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":["ok",null],"env":{"A":null,"B":"b"},"inputObjects":[null]}""");

        Assert.Contains("args[1]", errors.Keys);
        Assert.Contains("env.A", errors.Keys);
        Assert.Contains("inputObjects[0]", errors.Keys);
        Assert.DoesNotContain("env.B", errors.Keys);
    }

    [Fact]
    public async Task WrongJsonTypes_Answer400NamingEachPath()
    {
        var errors = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":"x","env":["A=1"],"entry":5,"validators":"1","limits":{"fuel":"lots"},"stdin":true}""");

        Assert.Equal(["args", "entry", "env", "limits.fuel", "stdin", "validators"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("\"limits\":{\"wallTimeMs\":922337203685478}", "limits.wallTimeMs")]
    [InlineData("\"limits\":{\"wallTimeMs\":9223372036854775807}", "limits.wallTimeMs")]
    [InlineData("\"limits\":{\"wallTimeMs\":-1}", "limits.wallTimeMs")]
    [InlineData("\"limits\":{\"fuel\":1180591620717411303424}", "limits.fuel")]
    [InlineData("\"limits\":{\"memoryPages\":1.5}", "limits.memoryPages")]
    [InlineData("\"limits\":{\"memoryPages\":4294967296}", "limits.memoryPages")]
    [InlineData("\"validators\":1e30", "validators")]
    [InlineData("\"validators\":-2147483649", "validators")]
    [InlineData("\"maxPrice\":1e30", "maxPrice")]
    [InlineData("\"maxPrice\":-1", "maxPrice")]
    public async Task NumbersOutOfRangeOrType_Answer400WithThePath(string field, string path)
    {
        var errors = await RefusedAsync($$"""{"module":"{{fixture.Hello}}",{{field}} }""");

        Assert.Equal([path], errors.Keys);
    }

    [Fact]
    public async Task MalformedJson_Answers400SayingWhere()
    {
        using var response = await PostAsync("{\n  \"module\": \"abc\",\n  \"args\": [1,,]\n}");
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);

        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("not valid JSON", detail, StringComparison.Ordinal);
        Assert.Contains("line 3", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyThatIsNotAJobObject_Answers400()
    {
        using var array = await PostAsync("[1, 2]");
        using var empty = await PostAsync("");
        using var deep = await PostAsync(new string('[', 100) + new string(']', 100));

        Assert.Contains("JSON object", (await ProblemAsync(array, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("not valid JSON", (await ProblemAsync(empty, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("not valid JSON", (await ProblemAsync(deep, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidUtf8InTheBody_Answers400NotServerError()
    {
        var body = Encoding.UTF8.GetBytes($$"""{"module":"{{fixture.Hello}}","args":["x"]}""");
        body[body.Length - 4] = 0xFF;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await fixture.Silo.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), content);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task SubmitterField_IsRefused_TheCallerIsTheAccount()
    {
        var errors = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","submitter":"did:key:someone-else"}""");

        Assert.Contains("the submitter is the account that signs the request", Assert.Single(errors["submitter"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOrRepeatedField_IsRefusedByName()
    {
        var unknown = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","validator":1}""");
        var repeated = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":[],"Args":["x"]}""");

        Assert.Equal(["validator"], unknown.Keys);
        Assert.Equal(["Args"], repeated.Keys);
    }

    [Fact]
    public async Task InvalidUnicodeOrNulInProgramText_IsRefused()
    {
        var surrogate = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":["\ud800"]}""");
        var nul = await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":["a\u0000b"],"env":{"A":"x\u0000y"} }""");

        Assert.Equal(["args[0]"], surrogate.Keys);
        Assert.Equal(["args[0]", "env.A"], nul.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task FieldsOverTheirLimits_Answer400NamingTheField()
    {
        var manyArgs = JsonSerializer.Serialize(Enumerable.Range(0, 1025).Select(i => "a").ToArray());
        var bigArgs = JsonSerializer.Serialize(Enumerable.Range(0, 100).Select(i => new string('a', 1000)).ToArray());
        var bigEnv = JsonSerializer.Serialize(new Dictionary<string, string> { ["BIG"] = new('e', 70_000) });
        var manyEnv = JsonSerializer.Serialize(Enumerable.Range(0, 257).ToDictionary(i => $"V{i}", _ => "x"));

        Assert.Equal(["args"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":{{manyArgs}} }""")).Keys);
        Assert.Equal(["args"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","args":{{bigArgs}} }""")).Keys);
        Assert.Equal(["env"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","env":{{bigEnv}} }""")).Keys);
        Assert.Equal(["env"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","env":{{manyEnv}} }""")).Keys);
        Assert.Equal(["entry"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","entry":"{{new string('e', 257)}}"}""")).Keys);
        Assert.Equal(["stdin"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","stdin":"{{new string('s', (1 << 20) + 1)}}"}""")).Keys);
        Assert.Equal(["inputObjects[0]"], (await RefusedAsync($$"""{"module":"{{fixture.Hello}}","inputObjects":["ns/{{new string('n', 2000)}}"]}""")).Keys);
    }

    [Fact]
    public async Task FieldsAtTheirLimits_AreAccepted()
    {
        await fixture.Silo.FundAsync();
        var args = JsonSerializer.Serialize(Enumerable.Range(0, 64).Select(i => new string('a', 1023)).ToArray());

        using var response = await PostAsync($$"""{"module":"{{fixture.Hello}}","args":{{args}},"entry":null,"env":null,"stdin":"{{new string('s', 1 << 20)}}","validators":0}""");

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MaxSizeInlineModule_FitsTheBodyLimit_AndOneByteMoreIsRefusedAsAField()
    {
        var atLimit = Convert.ToBase64String(new byte[32 << 20]);
        var overLimit = Convert.ToBase64String(new byte[(32 << 20) + 1]);

        var judged = await RefusedAsync($$"""{"moduleBase64":"{{atLimit}}","stdinBase64":"{{Convert.ToBase64String(new byte[1 << 20])}}"}""");
        var tooBig = await RefusedAsync($$"""{"moduleBase64":"{{overLimit}}"}""");

        // A module of the largest size gets through the body limit and is judged as WebAssembly (zeros are not).
        Assert.Equal(["moduleBase64"], judged.Keys);
        Assert.StartsWith("Not a valid WebAssembly module", Assert.Single(judged["moduleBase64"]), StringComparison.Ordinal);
        Assert.Contains("the limit is 33554432", Assert.Single(tooBig["moduleBase64"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeclaredBodyOverTheLimit_Answers413BeforeItIsSent()
    {
        var response = await RawHttp.SendAsync(
            fixture.Silo.BaseAddress,
            $"POST /api/jobs HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {MaxJobRequestBytes + 1}" + RawHttp.Signed("POST", "/api/jobs"),
            timeout: TimeSpan.FromSeconds(10));

        Assert.Equal(413, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Contains("Xmbl:Compute:MaxJobRequestBytes", response.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Answers413()
    {
        var response = await RawHttp.SendAsync(
            fixture.Silo.BaseAddress,
            "POST /api/jobs HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked" + RawHttp.Signed("POST", "/api/jobs"),
            (stream, ct) => RawHttp.WriteChunkedAsync(stream, MaxJobRequestBytes + (1 << 20), ct));

        Assert.Equal(413, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
    }

    [Fact]
    public async Task JobListing_LastPage_SaysNextIsNull()
    {
        var page = await fixture.Silo.GetJsonAsync("/api/jobs?limit=1000");

        Assert.True(page.TryGetProperty("next", out var next), page.ToString());
        Assert.Equal(JsonValueKind.Null, next.ValueKind);
    }

    private async Task<HttpResponseMessage> PostAsync(string json, string? account = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/jobs", UriKind.Relative)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return await fixture.Silo.As(account ?? TestAccounts.User).SendAsync(request);
    }

    private async Task<Dictionary<string, string[]>> RefusedAsync(string json)
    {
        using var response = await PostAsync(json);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.TryGetProperty("errors", out var errors), problem.ToString());
        return errors.Deserialize<Dictionary<string, string[]>>()!;
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
