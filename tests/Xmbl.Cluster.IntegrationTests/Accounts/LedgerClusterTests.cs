using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary>The ledger on PostgreSQL with several silo processes: transfers through every silo conserve the supply.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class LedgerClusterTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private const long Xmbl = 1_000_000;
    private const int Accounts = 20;
    private const int TransfersPerAccount = 50;

    private readonly TempDirectory _data = new("xmbl-ledger-cluster");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task A_thousand_transfers_through_three_silo_processes_among_20_accounts_conserve_the_supply_and_never_overdraw()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("ledger-a", database);
        await using var b = await StartAsync("ledger-b", database);
        await using var c = await StartAsync("ledger-c", database);
        SiloProcess[] silos = [a, b, c];
        var names = Enumerable.Range(0, Accounts).Select(i => "cluster-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var dids = names.Select(TestAccounts.Did).ToArray();
        for (var i = 0; i < Accounts; i++)
        {
            using var faucet = await silos[i % 3].As(names[i]).PostAsJsonAsync("/api/faucet", new { amount = 100 * Xmbl });
            Assert.True(faucet.StatusCode == HttpStatusCode.OK, await faucet.Content.ReadAsStringAsync());
        }

        // Every account sends its transfers in nonce order, each through a random silo; all accounts at once, so
        // every account is debited on one silo while credits reach it from the others. Amounts up to 30 xmbl.c of a
        // 100 xmbl.c start: some transfers would overdraw.
        var expected = Enumerable.Repeat(100 * Xmbl, Accounts).ToArray();
        var done = 0;
        var short402 = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Accounts).Select(from => Task.Run(async () =>
        {
            var random = new Random(from);
            for (var nonce = 1; nonce <= TransfersPerAccount; nonce++)
            {
                var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
                var amount = 1 + random.NextInt64(30 * Xmbl);
                using var response = await silos[random.Next(3)].As(names[from]).PostAsJsonAsync("/api/transfers", new { to = dids[to], amount, nonce });
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("balance").GetInt64() >= 0);
                    Interlocked.Add(ref expected[from], -amount);
                    Interlocked.Add(ref expected[to], amount);
                    Interlocked.Increment(ref done);
                }
                else
                {
                    Assert.True(response.StatusCode == HttpStatusCode.PaymentRequired, $"{(int)response.StatusCode}: {body}");
                    Interlocked.Increment(ref short402);
                }
            }
        })));
        clock.Stop();
        output.WriteLine($"{done} transfers made and {short402} refused (402) in {clock.Elapsed.TotalSeconds:F2} s: {(done + short402) / clock.Elapsed.TotalSeconds:F0} requests/s through 3 silos on PostgreSQL");

        Assert.Equal(Accounts * TransfersPerAccount, done + short402);
        Assert.True(done > Accounts * TransfersPerAccount / 2, $"only {done} transfers were made");
        // A credit whose delivery timed out under load is owed until its sender's reminder (every 2 s here) delivers it:
        // first nothing may be owed, then every balance is what the accepted transfers make it.
        for (var i = 0; i < Accounts; i++)
        {
            var wait = Stopwatch.StartNew();
            while ((await silos[i % 3].GetJsonAsync("/api/accounts/" + dids[i])).GetProperty("pendingOut").GetInt64() != 0 && wait.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(250);
            }
        }

        long total = 0;
        for (var i = 0; i < Accounts; i++)
        {
            var account = await silos[(i + 1) % 3].GetJsonAsync("/api/accounts/" + dids[i]);
            Assert.Equal(0, account.GetProperty("pendingOut").GetInt64());
            Assert.Equal(expected[i], account.GetProperty("balance").GetInt64());
            total += account.GetProperty("balance").GetInt64();
        }

        Assert.Equal(Accounts * 100 * Xmbl, total);
    }

    private Task<SiloProcess> StartAsync(string siloId, string connectionString) =>
        SiloProcess.StartAsync(
            Path.Combine(_data.Path, siloId),
            "--postgres", connectionString,
            "--silo-id", siloId,
            "--Xmbl:Ledger:Faucet:Enabled", "true",
            "--Xmbl:Ledger:DeliveryRetryPeriod", "00:00:02",
            "--Xmbl:Storage:Transport:ClusterSecret", "integration-test-cluster-secret");
}
