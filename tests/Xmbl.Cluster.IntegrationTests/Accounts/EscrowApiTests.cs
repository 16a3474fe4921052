using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary>Jobs hold their maximum price and pay the nodes' operator through the HTTP API (nodes operated by "ops").</summary>
[Trait("Suite", "Functional")]
public sealed class EscrowApiTests(LedgerSiloFixture fixture) : IClassFixture<LedgerSiloFixture>
{
    private SiloProcess Silo => fixture.Silo;

    [Fact]
    public async Task A_job_beyond_the_balance_answers_402_with_the_balance_and_the_hold_and_nothing_is_queued()
    {
        var hello = await JobsApi.UploadAsync(Silo, "hello.wasm");
        using (var faucet = await Silo.As("pauper").PostAsJsonAsync("/api/faucet", new { amount = 1_000_000 }))
        {
            Assert.Equal(HttpStatusCode.OK, faucet.StatusCode);
        }

        using var response = await Silo.As("pauper").PostAsJsonAsync("/api/jobs", new JsonObject { ["module"] = hello, ["validators"] = 1 });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.PaymentRequired, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(1_000_000, problem.GetProperty("balance").GetInt64());
        Assert.Equal(200_000_000, problem.GetProperty("hold").GetInt64()); // 2 runs x 10^10 fuel x 0.01 xmbl.c per million fuel
        Assert.Contains("1.000000 xmbl.c", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var jobs = await Silo.GetJsonAsync("/api/jobs?submitter=" + TestAccounts.Did("pauper"));
        Assert.Empty(jobs.GetProperty("items").EnumerateArray());
        var account = await Silo.GetJsonAsync("/api/accounts/" + TestAccounts.Did("pauper"));
        Assert.Equal((1_000_000L, 0L), (account.GetProperty("balance").GetInt64(), account.GetProperty("held").GetInt64()));
    }

    [Fact]
    public async Task A_settled_job_pays_the_operator_of_both_nodes_from_its_hold_and_refunds_the_rest()
    {
        var hello = await JobsApi.UploadAsync(Silo, "hello.wasm");
        using (var faucet = await Silo.As("payer").PostAsJsonAsync("/api/faucet", new { amount = 50_000_000 }))
        {
            Assert.Equal(HttpStatusCode.OK, faucet.StatusCode);
        }

        var opsBefore = (await Silo.GetJsonAsync("/api/accounts/" + TestAccounts.Did("ops"))).GetProperty("balance").GetInt64();
        using var response = await Silo.As("payer").PostAsJsonAsync("/api/jobs", new JsonObject { ["module"] = hello, ["validators"] = 1, ["limits"] = new JsonObject { ["fuel"] = 1_000_000_000 } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var job = await JobsApi.WaitAsync(Silo, id);

        Assert.Equal("Settled", job.Text("status"));
        var escrow = job.GetProperty("escrow");
        Assert.Equal(20_000_000, escrow.GetProperty("held").GetInt64());
        var payouts = escrow.GetProperty("payouts").EnumerateArray().ToList();
        Assert.Equal(2, payouts.Count);
        Assert.All(payouts, p => Assert.Equal(TestAccounts.Did("ops"), p.GetProperty("payee").GetString()));
        var paid = payouts.Sum(p => p.GetProperty("amount").GetInt64());
        Assert.True(paid > 0);
        Assert.Equal(20_000_000, paid + escrow.GetProperty("refunded").GetInt64());
        var payer = await Silo.GetJsonAsync("/api/accounts/" + TestAccounts.Did("payer"));
        Assert.Equal((50_000_000 - paid, 0L), (payer.GetProperty("balance").GetInt64(), payer.GetProperty("held").GetInt64()));
        var ops = await Silo.GetJsonAsync("/api/accounts/" + TestAccounts.Did("ops"));
        Assert.Equal(opsBefore + paid, ops.GetProperty("balance").GetInt64());
        var history = await Silo.GetJsonAsync($"/api/accounts/{TestAccounts.Did("payer")}/history");
        Assert.Equal(
            ["Faucet", "EscrowHold", "EscrowRelease", "JobPayment", "JobPayment"],
            history.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
    }
}
