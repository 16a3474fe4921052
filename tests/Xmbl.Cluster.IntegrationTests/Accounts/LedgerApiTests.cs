using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary>An embedded silo whose nodes are operated by "ops", with a treasury and a small faucet.</summary>
public sealed class LedgerSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-ledger");

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Silo = await SiloProcess.StartAsync(
            _data.Path,
            "--nodes", "2",
            "--operator", TestAccounts.Did("ops"),
            "--Xmbl:Ledger:Treasury", TestAccounts.Did("treasury"),
            "--Xmbl:Ledger:Faucet:MaxPerRequest", "50000000",
            "--Xmbl:Ledger:Faucet:MaxPerWindow", "80000000");

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>Accounts, transfers, histories, the faucet and mints through the HTTP API, signed as clients sign.</summary>
[Trait("Suite", "Functional")]
public sealed class LedgerApiTests(LedgerSiloFixture fixture) : IClassFixture<LedgerSiloFixture>
{
    private const long Xmbl = 1_000_000;

    private SiloProcess Silo => fixture.Silo;

    [Fact]
    public async Task A_transfer_moves_the_exact_amount_and_both_histories_record_it()
    {
        await FaucetAsync("alice1", 10 * Xmbl);

        using var response = await TransferAsync("alice1", TestAccounts.Did("bob1"), 2_500_001, 1);

        var body = await JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(TestAccounts.Did("alice1") + "/1", body.GetProperty("id").GetString());
        Assert.Equal("2.500001", body.GetProperty("amountXmblC").GetString());
        Assert.True(body.GetProperty("delivered").GetBoolean());
        var alice = await AccountAsync("alice1");
        Assert.Equal(7_499_999, alice.GetProperty("balance").GetInt64());
        Assert.Equal("7.499999", alice.GetProperty("balanceXmblC").GetString());
        Assert.Equal(2, alice.GetProperty("nextNonce").GetInt64());
        Assert.Equal(2_500_001, (await AccountAsync("bob1")).GetProperty("balance").GetInt64());
        var history = await Silo.GetJsonAsync($"/api/accounts/{TestAccounts.Did("bob1")}/history");
        var entry = Assert.Single(history.GetProperty("items").EnumerateArray());
        Assert.Equal("TransferIn", entry.GetProperty("kind").GetString());
        Assert.Equal(TestAccounts.Did("alice1"), entry.GetProperty("counterparty").GetString());
        Assert.Equal(JsonValueKind.Null, history.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task A_transfer_past_the_balance_answers_402_with_the_balance_and_moves_nothing()
    {
        await FaucetAsync("alice2", 3 * Xmbl);

        using var response = await TransferAsync("alice2", TestAccounts.Did("bob2"), (3 * Xmbl) + 1, 1);

        var problem = await JsonAsync(response, HttpStatusCode.PaymentRequired);
        Assert.Equal(3 * Xmbl, problem.GetProperty("balance").GetInt64());
        Assert.Contains("3.000000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(3 * Xmbl, (await AccountAsync("alice2")).GetProperty("balance").GetInt64());
        Assert.Equal(0, (await AccountAsync("bob2")).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task A_reused_nonce_answers_409_and_a_replayed_request_401_with_balances_unchanged()
    {
        await FaucetAsync("alice3", 10 * Xmbl);
        var body = Encoding.UTF8.GetBytes($$"""{"to":"{{TestAccounts.Did("bob3")}}","amount":1000000,"nonce":7}""");
        using var first = Signed(body, "alice3");
        using var replay = Copy(first, body);

        using var accepted = await Silo.Unsigned.SendAsync(first);
        using var replayed = await Silo.Unsigned.SendAsync(replay);
        using var reused = await TransferAsync("alice3", TestAccounts.Did("bob3"), 1 * Xmbl, 7);
        using var older = await TransferAsync("alice3", TestAccounts.Did("bob3"), 1 * Xmbl, 3);

        await JsonAsync(accepted, HttpStatusCode.OK);
        await SignedRequestTests.AssertRefusedAsync(replayed, "replayed", RequestSignature.NonceHeader);
        Assert.Equal(7, (await JsonAsync(reused, HttpStatusCode.Conflict)).GetProperty("lastNonce").GetInt64());
        Assert.Equal(8, (await JsonAsync(older, HttpStatusCode.Conflict)).GetProperty("nextNonce").GetInt64());
        Assert.Equal(9 * Xmbl, (await AccountAsync("alice3")).GetProperty("balance").GetInt64());
        Assert.Equal(1 * Xmbl, (await AccountAsync("bob3")).GetProperty("balance").GetInt64());
    }

    [Theory]
    [InlineData("""{"amount":1,"nonce":1}""", "to")]
    [InlineData("""{"to":"alice","amount":1,"nonce":1}""", "to")]
    [InlineData("""{"to":"$BOB","amount":1.5,"nonce":1}""", "amount")]
    [InlineData("""{"to":"$BOB","amount":0,"nonce":1}""", "amount")]
    [InlineData("""{"to":"$BOB","amount":-5,"nonce":1}""", "amount")]
    [InlineData("""{"to":"$BOB","amount":"1","nonce":1}""", "amount")]
    [InlineData("""{"to":"$BOB","amount":1e3,"nonce":1}""", "amount")]
    [InlineData("""{"to":"$BOB","amount":99999999999999999999,"nonce":1}""", "amount")]
    [InlineData("""{"to":"$BOB","amount":1}""", "nonce")]
    [InlineData("""{"to":"$BOB","amount":1,"nonce":0}""", "nonce")]
    [InlineData("""{"to":"$BOB","amount":1,"nonce":1,"from":"x"}""", "from")]
    [InlineData("""{"to":"$SELF","amount":1,"nonce":1}""", "itself")]
    [InlineData("""[1]""", "JSON object")]
    [InlineData("""{"to":""", "not valid JSON")]
    public async Task A_bad_transfer_body_answers_400_naming_the_field_and_moves_nothing(string json, string named)
    {
        await FaucetAsync("alice4", 5 * Xmbl);
        var body = json.Replace("$BOB", TestAccounts.Did("bob4"), StringComparison.Ordinal).Replace("$SELF", TestAccounts.Did("alice4"), StringComparison.Ordinal);

        using var response = await Silo.As("alice4").PostAsync(new Uri("/api/transfers", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(named, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var alice = await AccountAsync("alice4");
        Assert.True(alice.GetProperty("balance").GetInt64() % (5 * Xmbl) == 0, "no transfer was made");
        Assert.Equal(1, alice.GetProperty("nextNonce").GetInt64());
    }

    [Fact]
    public async Task An_unsigned_transfer_answers_401_and_moves_nothing()
    {
        await FaucetAsync("alice5", 5 * Xmbl);

        using var response = await Silo.Unsigned.PostAsJsonAsync("/api/transfers", new { to = TestAccounts.Did("bob5"), amount = 1, nonce = 1 });

        await SignedRequestTests.AssertRefusedAsync(response, "missing", RequestSignature.SignatureHeader);
        Assert.Equal(0, (await AccountAsync("bob5")).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Only_the_treasury_mints()
    {
        using var refused = await Silo.As("mallory").PostAsJsonAsync("/api/mint", new { amount = 1_000_000_000, nonce = 1 });
        using var minted = await Silo.As("treasury").PostAsJsonAsync("/api/mint", new { amount = 1_000_000_000, nonce = 1 });

        Assert.Contains("treasury", (await JsonAsync(refused, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await AccountAsync("mallory")).GetProperty("balance").GetInt64());
        Assert.Equal(1_000_000_000, (await JsonAsync(minted, HttpStatusCode.OK)).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task The_faucet_refuses_past_its_request_limit_with_400_and_past_its_window_with_429()
    {
        using var tooMuch = await Silo.As("alice6").PostAsJsonAsync("/api/faucet", new { amount = 50_000_001 });
        using var first = await Silo.As("alice6").PostAsJsonAsync("/api/faucet", new { amount = 50_000_000 });
        using var overWindow = await Silo.As("alice6").PostAsJsonAsync("/api/faucet", new { amount = 30_000_001 });

        Assert.Contains("per request", (await JsonAsync(tooMuch, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await JsonAsync(first, HttpStatusCode.OK);
        await JsonAsync(overWindow, (HttpStatusCode)429);
        Assert.True(overWindow.Headers.RetryAfter?.Delta > TimeSpan.FromHours(23));
        Assert.Equal(50_000_000, (await AccountAsync("alice6")).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task An_account_shows_the_nodes_it_operates_with_their_reputation()
    {
        var ops = await AccountAsync("ops");
        var nobody = await AccountAsync("nobody");
        using var bad = await Silo.Unsigned.GetAsync(new Uri("/api/accounts/alice", UriKind.Relative));

        Assert.Equal(TestAccounts.Did("ops"), ops.GetProperty("did").GetString());
        Assert.Equal(2, ops.GetProperty("nodes").GetArrayLength());
        Assert.All(ops.GetProperty("nodes").EnumerateArray(), n => Assert.InRange(n.GetProperty("reputation").GetDouble(), 0, 1));
        Assert.Equal(JsonValueKind.Number, ops.GetProperty("reputation").ValueKind);
        Assert.Equal(0, nobody.GetProperty("nodes").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, nobody.GetProperty("reputation").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task History_pages_follow_the_next_cursor()
    {
        await FaucetAsync("alice7", 10 * Xmbl);
        for (var nonce = 1; nonce <= 4; nonce++)
        {
            using var sent = await TransferAsync("alice7", TestAccounts.Did("bob7"), nonce, nonce);
            await JsonAsync(sent, HttpStatusCode.OK);
        }

        var path = $"/api/accounts/{TestAccounts.Did("alice7")}/history";
        var first = await Silo.GetJsonAsync(path + "?limit=2");
        var second = await Silo.GetJsonAsync(path + "?limit=2&after=" + first.GetProperty("next").GetString());
        var third = await Silo.GetJsonAsync(path + "?limit=2&after=" + second.GetProperty("next").GetString());
        using var badLimit = await Silo.Unsigned.GetAsync(new Uri(path + "?limit=0", UriKind.Relative));
        using var badAfter = await Silo.Unsigned.GetAsync(new Uri(path + "?after=-1", UriKind.Relative));

        var seqs = new[] { first, second, third }.SelectMany(p => p.GetProperty("items").EnumerateArray()).Select(e => e.GetProperty("seq").GetInt64());
        Assert.Equal([1L, 2, 3, 4, 5], seqs);
        Assert.Equal(JsonValueKind.Null, third.GetProperty("next").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badAfter.StatusCode);
    }

    private async Task FaucetAsync(string name, long amount)
    {
        using var response = await Silo.As(name).PostAsJsonAsync("/api/faucet", new { amount });
        await JsonAsync(response, HttpStatusCode.OK);
    }

    private Task<HttpResponseMessage> TransferAsync(string from, string to, long amount, long nonce) =>
        Silo.As(from).PostAsJsonAsync("/api/transfers", new { to, amount, nonce });

    private Task<JsonElement> AccountAsync(string name) => Silo.GetJsonAsync("/api/accounts/" + TestAccounts.Did(name));

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A transfer signed by hand, so that the very same request can be sent again.</summary>
    private HttpRequestMessage Signed(byte[] body, string name)
    {
        var headers = new RequestSigner(TestAccounts.Key(name)).Sign("POST", "/api/transfers", RequestSigner.HashBody(body));
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Silo.BaseAddress, "/api/transfers")) { Content = Content(body) };
        request.Headers.TryAddWithoutValidation(RequestSignature.IdentityHeader, headers.Identity!);
        request.Headers.TryAddWithoutValidation(RequestSignature.TimestampHeader, headers.Timestamp!);
        request.Headers.TryAddWithoutValidation(RequestSignature.NonceHeader, headers.Nonce!);
        request.Headers.TryAddWithoutValidation(RequestSignature.ContentSha256Header, headers.ContentSha256!);
        request.Headers.TryAddWithoutValidation(RequestSignature.SignatureHeader, headers.Signature!);
        return request;
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request, byte[] body)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Content = Content(body) };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return copy;
    }

    private static ByteArrayContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
