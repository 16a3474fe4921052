using System.Diagnostics;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;

namespace Xmbl.Cluster.Grains.Tests.Ledger;

[CollectionDefinition(Name)]
public sealed class LedgerPostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "LedgerPostgres";
}

/// <summary>The account grains on PostgreSQL (AdoNet storage and reminders), without HTTP: the ledger's own rate.</summary>
[Trait("Suite", "Postgres")]
[Collection(LedgerPostgresCollection.Name)]
public sealed class LedgerPostgresTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const long Xmbl = 1_000_000;

    [Fact]
    public async Task Transfers_among_200_accounts_on_PostgreSQL_conserve_the_supply()
    {
        const int accounts = 200;
        const int perAccount = 10;
        var database = await postgres.CreateDatabaseAsync();
        await using var silo = await LedgerSilo.StartAsync(new Dictionary<string, string?>
        {
            [SiloConfiguration.ConnectionStringKey] = database,
            ["Xmbl:Ledger:Faucet:Enabled"] = "true",
            ["Xmbl:Storage:Transport:ClusterSecret"] = "ledger-postgres-test-secret",
        });
        var dids = Enumerable.Range(0, accounts).Select(_ => LedgerSilo.NewAccount()).ToArray();
        await Task.WhenAll(dids.Select(d => silo.Ledger.FaucetAsync(d, 100 * Xmbl)));

        var expected = Enumerable.Repeat(100 * Xmbl, accounts).ToArray();
        var done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, accounts).Select(async from =>
        {
            var random = new Random(from);
            for (var nonce = 1; nonce <= perAccount; nonce++)
            {
                var to = (from + 1 + random.Next(accounts - 1)) % accounts;
                var amount = 1 + random.NextInt64(30 * Xmbl);
                var outcome = await silo.Ledger.TransferAsync(dids[from], dids[to], amount, nonce);
                if (outcome.Refusal == LedgerRefusal.Done)
                {
                    Interlocked.Add(ref expected[from], -amount);
                    Interlocked.Add(ref expected[to], amount);
                    Interlocked.Increment(ref done);
                }
                else
                {
                    Assert.Equal(LedgerRefusal.InsufficientFunds, outcome.Refusal);
                }
            }
        }));
        clock.Stop();
        output.WriteLine($"{done} of {accounts * perAccount} transfers made in {clock.Elapsed.TotalSeconds:F2} s: {done / clock.Elapsed.TotalSeconds:F0} transfers/s ({accounts} senders at once, one silo, PostgreSQL)");

        // Credits whose delivery timed out under load are delivered now (else by the reminder, later).
        foreach (var did in dids)
        {
            Assert.True(await silo.Account(did).DeliverPendingAsync());
        }

        long total = 0;
        for (var i = 0; i < accounts; i++)
        {
            var account = await silo.Ledger.GetAsync(dids[i]);
            Assert.Equal(expected[i], account.Balance);
            Assert.Equal(0, account.PendingOut);
            total += account.Balance;
        }

        Assert.Equal(accounts * 100 * Xmbl, total);
    }
}
