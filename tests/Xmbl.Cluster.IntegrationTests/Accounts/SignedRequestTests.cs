using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary>An embedded silo as it starts by default (no loopback trust), with a two-minute signature window.</summary>
public sealed class SignedSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-signed");

    public SiloProcess Silo { get; private set; } = null!;

    public string Loop { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2", "--Xmbl:Gateway:MaxClockSkew", "00:02:00");
        Loop = await JobsApi.UploadAsync(Silo, "infinite_loop.wasm");
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>
/// Every request that changes something is signed; each forgery, replay or tampering is a 401 problem naming the
/// reason, and nothing changes. Owners alone delete and cancel; the operator alone stops nodes.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class SignedRequestTests(SignedSiloFixture fixture) : IClassFixture<SignedSiloFixture>
{
    private SiloProcess Silo => fixture.Silo;

    [Fact]
    public async Task UnsignedChanges_FromLoopback_Answer401Missing_AndNothingIsStoredOrSubmitted()
    {
        var jobsBefore = await JobCountAsync();

        using var put = await Silo.Unsigned.PutAsync(Url("unsigned/a.txt"), new StringContent("x"));
        using var submit = await Silo.Unsigned.PostAsync(new Uri("/api/jobs", UriKind.Relative), Json(new JsonObject { ["module"] = fixture.Loop }));
        using var stop = await Silo.Unsigned.PostAsync(new Uri($"/api/nodes/{await NodeAsync()}/stop", UriKind.Relative), null);

        foreach (var response in new[] { put, submit, stop })
        {
            await AssertRefusedAsync(response, "missing", RequestSignature.SignatureHeader);
        }

        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync("unsigned/a.txt"));
        Assert.Equal(jobsBefore, await JobCountAsync());
    }

    [Fact]
    public async Task UnsignedReads_OfPublicData_StayOpen()
    {
        await PutAsync(Silo.Http, "open/a.txt", "public");

        using var read = await Silo.Unsigned.GetAsync(Url("open/a.txt"));
        using var cluster = await Silo.Unsigned.GetAsync(new Uri("/api/cluster", UriKind.Relative));

        Assert.Equal("public", await read.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, cluster.StatusCode);
    }

    [Fact]
    public async Task Put_RecordsTheSignerAsOwner()
    {
        var created = await PutAsync(Silo.As("alice"), "owners/alice.txt", "mine");

        Assert.Equal(TestAccounts.Did("alice"), created.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task ReplayedDelete_IsRefused_AndTheRecreatedObjectStays()
    {
        await PutAsync(Silo.Http, "replay/a.txt", "first");
        using var delete = Signed(HttpMethod.Delete, "/api/objects/replay/a.txt", null, Key("user"));
        var replay = Copy(delete);
        using (var first = await Silo.Unsigned.SendAsync(delete))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }

        await PutAsync(Silo.Http, "replay/a.txt", "second");
        using var replayed = await Silo.Unsigned.SendAsync(replay);

        await AssertRefusedAsync(replayed, "replayed", RequestSignature.NonceHeader);
        Assert.Equal("second", await Silo.Unsigned.GetStringAsync(Url("replay/a.txt")));
    }

    [Fact]
    public async Task ANonceReusedOnAnotherSignedRequest_IsRefused_AndNothingIsStored()
    {
        using var first = Signed(HttpMethod.Put, "/api/objects/nonce/a.txt", "a"u8.ToArray(), Key("user"));
        var nonce = first.Headers.GetValues(RequestSignature.NonceHeader).Single();
        using (var ok = await Silo.Unsigned.SendAsync(first))
        {
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        using var second = Signed(HttpMethod.Put, "/api/objects/nonce/b.txt", "b"u8.ToArray(), Key("user"), nonce: nonce);
        using var refused = await Silo.Unsigned.SendAsync(second);

        await AssertRefusedAsync(refused, "replayed", RequestSignature.NonceHeader);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync("nonce/b.txt"));
    }

    [Theory]
    [InlineData(-180, "stale")]
    [InlineData(180, "future")]
    public async Task ATimestampOutsideTheConfiguredWindow_IsRefused_AndNothingIsStored(int offsetSeconds, string reason)
    {
        var name = $"time/{reason}.txt";
        using var request = Signed(HttpMethod.Put, "/api/objects/" + name, "t"u8.ToArray(), Key("user"), clock: new ShiftedTime(TimeSpan.FromSeconds(offsetSeconds)));

        using var response = await Silo.Unsigned.SendAsync(request);

        var problem = await AssertRefusedAsync(response, reason, RequestSignature.TimestampHeader);
        Assert.Contains("120 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(name));
    }

    [Fact]
    public async Task ATimestampInsideTheConfiguredWindow_IsAccepted()
    {
        using var request = Signed(HttpMethod.Put, "/api/objects/time/inside.txt", "t"u8.ToArray(), Key("user"), clock: new ShiftedTime(TimeSpan.FromSeconds(-60)));

        using var response = await Silo.Unsigned.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task ForgedTruncatedAndNonCanonicalSignatures_AreRefused_AndNothingIsStored()
    {
        using var mallory = Ed25519KeyPair.Generate();
        var cases = new List<(string Name, Action<HttpRequestMessage> Tamper, string Reason)>
        {
            // Mallory signs but claims to be the user.
            ("forged", r => Replace(r, RequestSignature.IdentityHeader, TestAccounts.Did("user")), "bad-signature"),
            ("truncated", r => Replace(r, RequestSignature.SignatureHeader, r.Headers.GetValues(RequestSignature.SignatureHeader).Single()[..126]), "malformed"),
            ("flipped", r => Replace(r, RequestSignature.SignatureHeader, FlipFirstDigit(r.Headers.GetValues(RequestSignature.SignatureHeader).Single())), "bad-signature"),
            ("non-canonical", r => Replace(r, RequestSignature.SignatureHeader, AddGroupOrderToS(r.Headers.GetValues(RequestSignature.SignatureHeader).Single())), "bad-signature"),
            ("small-order-key", r => Replace(r, RequestSignature.IdentityHeader, "did:key:z" + Base58.Encode([0xED, 0x01, .. new byte[32]])), "malformed"),
        };

        foreach (var (name, tamper, reason) in cases)
        {
            var key = name == "forged" ? mallory : Key("user");
            using var request = Signed(HttpMethod.Put, $"/api/objects/forged/{name}.txt", "f"u8.ToArray(), key);
            tamper(request);
            using var response = await Silo.Unsigned.SendAsync(request);

            await AssertRefusedAsync(response, reason, name == "small-order-key" ? RequestSignature.IdentityHeader : RequestSignature.SignatureHeader);
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync($"forged/{name}.txt"));
        }
    }

    [Fact]
    public async Task AnUploadWhoseBytesDifferFromTheSignedHash_IsRefused_NothingIsCommittedOrBilled()
    {
        var signedFor = new byte[300_000];
        var sent = signedFor.ToArray();
        sent[^1] = 1;
        using var request = Signed(HttpMethod.Put, "/api/objects/tamper/big.bin", signedFor, Key("tamper"));
        request.Content = new ByteArrayContent(sent);

        using var response = await Silo.Unsigned.SendAsync(request);

        await AssertRefusedAsync(response, "body-mismatch", RequestSignature.ContentSha256Header);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync("tamper/big.bin"));
        var usage = await Silo.GetJsonAsync("/api/storage/usage?account=" + TestAccounts.Did("tamper"));
        Assert.Equal(0, usage.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task AJobBodyChangedAfterSigning_IsRefused_AndNoJobIsCreated()
    {
        var jobsBefore = await JobCountAsync();
        var signedFor = Encoding.UTF8.GetBytes($$$"""{"module":"{{{fixture.Loop}}}","limits":{"wallTimeMs":100}}""");
        using var request = Signed(HttpMethod.Post, "/api/jobs", signedFor, Key("user"));
        request.Content = new StringContent($$$"""{"module":"{{{fixture.Loop}}}","limits":{"wallTimeMs":200}}""", Encoding.UTF8, "application/json");

        using var response = await Silo.Unsigned.SendAsync(request);

        await AssertRefusedAsync(response, "body-mismatch", RequestSignature.ContentSha256Header);
        Assert.Equal(jobsBefore, await JobCountAsync());
    }

    [Fact]
    public async Task AChunkedModuleUploadChangedAfterSigning_IsRefused_AndTheModuleIsNotStored()
    {
        var module = JobsApi.Fixture("exit_code.wasm");
        var signedFor = JobsApi.Fixture("hello.wasm");
        using var request = Signed(HttpMethod.Post, "/api/modules", signedFor, Key("user"));
        request.Content = new StreamContent(new MemoryStream(module));
        request.Headers.TransferEncodingChunked = true;

        using var response = await Silo.Unsigned.SendAsync(request);

        await AssertRefusedAsync(response, "body-mismatch", RequestSignature.ContentSha256Header);
        using var info = await Silo.Unsigned.GetAsync(new Uri("/api/modules/" + RequestSigner.HashBody(module), UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, info.StatusCode);
    }

    [Fact]
    public async Task AnEmptyBodyUnderTheHashOfAnother_IsRefused()
    {
        using var request = Signed(HttpMethod.Put, "/api/objects/tamper/emptied.txt", "content"u8.ToArray(), Key("user"));
        request.Content = new ByteArrayContent([]);

        using var response = await Silo.Unsigned.SendAsync(request);

        await AssertRefusedAsync(response, "body-mismatch", RequestSignature.ContentSha256Header);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync("tamper/emptied.txt"));
    }

    [Fact]
    public async Task AnotherAccount_CannotDeleteNorReplaceYourObject_ButYouCan()
    {
        await PutAsync(Silo.As("alice"), "shared/alice.txt", "alice's");

        using var bobDeletes = await Silo.As("bob").DeleteAsync(Url("shared/alice.txt"));
        using var bobReplaces = await Silo.As("bob").PutAsync(Url("shared/alice.txt"), new StringContent("bob's"));
        var stillThere = await Silo.Unsigned.GetStringAsync(Url("shared/alice.txt"));
        using var aliceDeletes = await Silo.As("alice").DeleteAsync(Url("shared/alice.txt"));

        Assert.Equal(HttpStatusCode.Forbidden, bobDeletes.StatusCode);
        Assert.Contains("only its owner", await bobDeletes.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, bobReplaces.StatusCode);
        Assert.Equal("alice's", stillThere);
        Assert.Equal(HttpStatusCode.NoContent, aliceDeletes.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync("shared/alice.txt"));
    }

    [Fact]
    public async Task AJobOfAnotherAccount_CannotNameYourObjectAsItsOutput()
    {
        await PutAsync(Silo.As("alice"), "shared/report.txt", "alice's report");

        using var response = await Silo.As("bob").PostAsync(new Uri("/api/jobs", UriKind.Relative), Json(new JsonObject { ["module"] = fixture.Loop, ["outputObject"] = "shared/report.txt" }));
        var problem = await SubmissionValidationTests.ProblemAsync(response, HttpStatusCode.BadRequest);

        Assert.Contains("only its owner", problem.GetProperty("errors").GetProperty("outputObject")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherAccount_CannotCancelYourJob_ButYouCan()
    {
        await Silo.FundAsync(TestAccounts.Did("alice"));
        var id = await SubmitLoopAsync(Silo.As("alice"));

        using var bobCancels = await Silo.As("bob").PostAsync(new Uri($"/api/jobs/{id}/cancel", UriKind.Relative), null);
        using var bobDeletes = await Silo.As("bob").DeleteAsync(new Uri($"/api/jobs/{id}", UriKind.Relative));
        var afterBob = await Silo.GetJsonAsync($"/api/jobs/{id}");
        using var aliceCancels = await Silo.As("alice").PostAsync(new Uri($"/api/jobs/{id}/cancel", UriKind.Relative), null);
        var final = await JobsApi.WaitAsync(Silo, id);

        Assert.Equal(HttpStatusCode.Forbidden, bobCancels.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bobDeletes.StatusCode);
        Assert.NotEqual("Cancelled", afterBob.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, aliceCancels.StatusCode);
        Assert.Equal("Cancelled", final.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OnlyTheOperator_StopsAndStartsANode_AndRunsRepair()
    {
        var node = await NodeAsync();

        using var userStops = await Silo.Http.PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var userRepairs = await Silo.Http.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
        using var operatorStops = await Silo.Operator.PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var operatorStarts = await Silo.Operator.PostAsync(new Uri($"/api/nodes/{node}/start", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Forbidden, userStops.StatusCode);
        Assert.Contains(Silo.OperatorKey.PublicKey.Did, await userStops.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, userRepairs.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorStops.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorStarts.StatusCode);
    }

    [Fact]
    public async Task ASignatureHeaderGivenTwice_IsRefused()
    {
        using var request = Signed(HttpMethod.Put, "/api/objects/twice/a.txt", "a"u8.ToArray(), Key("user"));
        request.Headers.TryAddWithoutValidation(RequestSignature.NonceHeader, "BBBBBBBBBBBBBBBBBBBBBB");

        using var response = await Silo.Unsigned.SendAsync(request);

        await AssertRefusedAsync(response, "malformed", RequestSignature.NonceHeader);
    }

    internal static async Task<JsonElement> AssertRefusedAsync(HttpResponseMessage response, string reason, string header)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(reason, problem.GetProperty("reason").GetString());
        Assert.Contains(header, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        return problem;
    }

    private static Ed25519KeyPair Key(string name) => TestAccounts.Key(name);

    private static Uri Url(string address) => new("/api/objects/" + address, UriKind.Relative);

    private static StringContent Json(JsonObject json) => new(json.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A request signed by hand (not through the handler), so a test can keep, copy or tamper with it.</summary>
    private HttpRequestMessage Signed(HttpMethod method, string target, byte[]? body, Ed25519KeyPair key, string? nonce = null, TimeProvider? clock = null)
    {
        var hash = RequestSigner.HashBody(body ?? []);
        var headers = new RequestSigner(key, clock).Sign(method.Method, target, hash);
        if (nonce is not null)
        {
            var canonical = RequestSignature.CanonicalBytes(method.Method, target, hash, headers.Identity!, headers.Timestamp!, nonce);
            headers = headers with { Nonce = nonce, Signature = Convert.ToHexStringLower(key.Sign(canonical)) };
        }

        var request = new HttpRequestMessage(method, new Uri(Silo.BaseAddress, target));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(target.StartsWith("/api/jobs", StringComparison.Ordinal) ? "application/json" : "text/plain");
        }

        Replace(request, RequestSignature.IdentityHeader, headers.Identity!);
        Replace(request, RequestSignature.TimestampHeader, headers.Timestamp!);
        Replace(request, RequestSignature.NonceHeader, headers.Nonce!);
        Replace(request, RequestSignature.ContentSha256Header, headers.ContentSha256!);
        Replace(request, RequestSignature.SignatureHeader, headers.Signature!);
        return request;
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri);
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return copy;
    }

    private static void Replace(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
    }

    private static string FlipFirstDigit(string hex) => (hex[0] == '0' ? '1' : '0') + hex[1..];

    private static string AddGroupOrderToS(string hex)
    {
        var signature = Convert.FromHexString(hex);
        var order = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", CultureInfo.InvariantCulture);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true) + order;
        s.TryWriteBytes(signature.AsSpan(32), out _, isUnsigned: true);
        return Convert.ToHexStringLower(signature);
    }

    private async Task<JsonElement> PutAsync(HttpClient client, string address, string text)
    {
        using var response = await client.PutAsync(Url(address), new StringContent(text));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"PUT {address}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<HttpStatusCode> StatusAsync(string address)
    {
        using var response = await Silo.Unsigned.GetAsync(Url(address));
        return response.StatusCode;
    }

    private async Task<int> JobCountAsync() => (await Silo.GetJsonAsync("/api/jobs?limit=1000")).GetProperty("items").GetArrayLength();

    private async Task<string> NodeAsync() => (await Silo.GetJsonAsync("/api/cluster")).GetProperty("nodes")[0].GetProperty("id").GetString()!;

    private async Task<string> SubmitLoopAsync(HttpClient client)
    {
        using var response = await client.PostAsync(new Uri("/api/jobs", UriKind.Relative), Json(new JsonObject
        {
            ["module"] = fixture.Loop,
            ["validators"] = 0,
            ["limits"] = new JsonObject { ["fuel"] = 1_000_000_000_000, ["wallTimeMs"] = 60_000 },
        }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The system clock moved by an offset: a client whose clock is wrong.</summary>
    private sealed class ShiftedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
