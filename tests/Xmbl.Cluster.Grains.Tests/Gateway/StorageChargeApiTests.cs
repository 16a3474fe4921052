using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Gateway;

/// <summary>Storage charges through the REST API: an owner's history shows them, and an owner who cannot pay gets 402 on new puts.</summary>
public sealed class StorageChargeApiTests
{
    private const decimal PricePerGbMonth = 1000m;

    [Fact]
    public async Task AnHourOfStorage_ShowsInBothHistories_AndAnOwnerWhoCannotPayIsRefusedNewPutsWith402()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var operatorKey = Ed25519KeyPair.Generate();
        await using var gateway = await GatewayApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["Xmbl:Ledger:Storage:Enabled"] = "true",
                ["Xmbl:Node:Operator"] = operatorKey.PublicKey.Did,
                ["Xmbl:Node:PricePerGbMonth"] = PricePerGbMonth.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            services => services.AddKeyedSingleton<TimeProvider>(ClusterClock.Key, time));
        using var ownerKey = Ed25519KeyPair.Generate();
        var owner = ownerKey.PublicKey.Did;
        using var http = new HttpClient(new SigningHandler(new RequestSigner(ownerKey)) { InnerHandler = new HttpClientHandler() }) { BaseAddress = gateway.Http.BaseAddress };
        var charges = gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IStorageChargesGrain>(IStorageChargesGrain.Key);
        await charges.StartAsync(enabled: true);
        await SendAsync(http, HttpMethod.Post, "/api/faucet", """{"amount": 1000000}""", HttpStatusCode.OK);

        var stored = await SendAsync(http, HttpMethod.Put, "/api/objects/files/report.bin", new string('r', 30_000), HttpStatusCode.Created);
        time.Advance(TimeSpan.FromHours(1));
        await charges.ChargeAsync();

        // One short stripe: k + m shards of ceil(size / k) bytes, an hour at the price: bytes × price × 10^6 micro / 10^9 bytes / 720 hours.
        var k = stored.GetProperty("dataShards").GetInt32();
        var shardBytes = (k + stored.GetProperty("parityShards").GetInt32()) * (long)Math.Ceiling(30_000d / k);
        var expected = (long)decimal.Floor(shardBytes * PricePerGbMonth * 1_000_000m / 1_000_000_000m / 720m);
        Assert.True(expected > 0);
        var paid = (await HistoryAsync(http, owner))[^1];
        Assert.Equal(("StoragePayment", -expected, operatorKey.PublicKey.Did), (paid.GetProperty("kind").GetString(), paid.GetProperty("amount").GetInt64(), paid.GetProperty("counterparty").GetString()));
        var income = (await HistoryAsync(http, operatorKey.PublicKey.Did))[^1];
        Assert.Equal(("StorageIncome", expected, owner), (income.GetProperty("kind").GetString(), income.GetProperty("amount").GetInt64(), income.GetProperty("counterparty").GetString()));

        // Everything left goes away; the next hour's charge is owed, and a new put is refused with the amount.
        var balance = (await SendAsync(http, HttpMethod.Get, $"/api/accounts/{owner}", null, HttpStatusCode.OK)).GetProperty("balance").GetInt64();
        await SendAsync(http, HttpMethod.Post, "/api/transfers", $$"""{"to": "{{operatorKey.PublicKey.Did}}", "amount": {{balance}}, "nonce": 1}""", HttpStatusCode.OK);
        time.Advance(TimeSpan.FromHours(1));
        await charges.ChargeAsync();

        var refused = await SendAsync(http, HttpMethod.Put, "/api/objects/files/more.bin", "more", HttpStatusCode.PaymentRequired);
        Assert.Equal((owner, 0L, expected), (refused.GetProperty("account").GetString(), refused.GetProperty("balance").GetInt64(), refused.GetProperty("storageOwed").GetInt64()));
        Assert.Equal(expected, (await SendAsync(http, HttpMethod.Get, $"/api/accounts/{owner}", null, HttpStatusCode.OK)).GetProperty("storageOwed").GetInt64());
        await SendAsync(http, HttpMethod.Get, "/api/objects/files/report.bin", null, HttpStatusCode.OK, json: false);
    }

    private static async Task<JsonElement[]> HistoryAsync(HttpClient http, string account) =>
        [.. (await SendAsync(http, HttpMethod.Get, $"/api/accounts/{account}/history?limit=100", null, HttpStatusCode.OK)).GetProperty("items").EnumerateArray()];

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? body, HttpStatusCode expected, bool json = true)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, method == HttpMethod.Put ? "application/octet-stream" : "application/json");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return json ? JsonDocument.Parse(text).RootElement.Clone() : default;
    }
}
