using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Ledger;
using Xmbl.Cluster.Grains.Ledger;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Ledger;

public sealed class AccountGrainTests
{
    private const long Xmbl = 1_000_000;

    [Fact]
    public async Task Concurrent_transfers_among_20_accounts_conserve_the_total_and_never_overdraw()
    {
        await using var silo = await LedgerSilo.StartAsync();
        var accounts = Enumerable.Range(0, 20).Select(_ => LedgerSilo.NewAccount()).ToArray();
        foreach (var account in accounts)
        {
            Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.FaucetAsync(account, 100 * Xmbl)).Refusal);
        }

        // Every account sends 50 transfers in nonce order, all accounts at once: each account is debited while credits
        // from the others interleave (A paying B while B pays A). Up to 30 xmbl.c of a 100 xmbl.c start: some would overdraw.
        var expected = Enumerable.Repeat(100 * Xmbl, accounts.Length).ToArray();
        var entries = Enumerable.Repeat(1L, accounts.Length).ToArray();
        var done = 0;
        var refused = 0;
        var lastNonce = new long[accounts.Length];
        await Task.WhenAll(Enumerable.Range(0, accounts.Length).Select(async from =>
        {
            var random = new Random(from);
            for (var nonce = 1; nonce <= 50; nonce++)
            {
                var to = (from + 1 + random.Next(accounts.Length - 1)) % accounts.Length;
                var amount = 1 + random.NextInt64(30 * Xmbl);
                var outcome = await silo.Ledger.TransferAsync(accounts[from], accounts[to], amount, nonce);
                Assert.True(outcome.Account.Balance >= 0);
                if (outcome.Refusal == LedgerRefusal.Done)
                {
                    Record(from, to, amount);
                }
                else
                {
                    Assert.Equal(LedgerRefusal.InsufficientFunds, outcome.Refusal);
                    Interlocked.Increment(ref refused);
                }
            }

            lastNonce[from] = 50;
        }));

        Assert.True(done > 1000 / 4, $"only {done} of 1000 transfers were made");
        Assert.True(refused > 0, "no transfer would have overdrawn");

        // Then each even account sends three transfers of its whole balance at once to the next (odd) account, which
        // sends nothing: at most one of the three is made.
        var burst = await Task.WhenAll(Enumerable.Range(0, accounts.Length / 2).Select(i => 2 * i).Select(async from =>
        {
            var balance = (await silo.Ledger.GetAsync(accounts[from])).Balance;
            var to = (from + 1) % accounts.Length;
            var outcomes = await Task.WhenAll(Enumerable.Range(1, 3).Select(k => silo.Ledger.TransferAsync(accounts[from], accounts[to], Math.Max(1, balance), lastNonce[from] + k)));
            foreach (var outcome in outcomes.Where(o => o.Refusal == LedgerRefusal.Done))
            {
                Record(from, to, Math.Max(1, balance));
            }

            return outcomes;
        }));
        Assert.All(burst, outcomes => Assert.True(outcomes.Count(o => o.Refusal == LedgerRefusal.Done) <= 1));
        Assert.All(burst.SelectMany(o => o), o => Assert.True(o.Account.Balance >= 0));

        void Record(int from, int to, long amount)
        {
            Interlocked.Add(ref expected[from], -amount);
            Interlocked.Add(ref expected[to], amount);
            Interlocked.Increment(ref entries[from]);
            Interlocked.Increment(ref entries[to]);
            Interlocked.Increment(ref done);
        }

        // Credits whose delivery timed out under load are delivered now (else by the reminder, later).
        foreach (var account in accounts)
        {
            Assert.True(await silo.Account(account).DeliverPendingAsync());
        }

        long total = 0;
        for (var i = 0; i < accounts.Length; i++)
        {
            var account = await silo.Ledger.GetAsync(accounts[i]);
            Assert.Equal(expected[i], account.Balance);
            Assert.Equal(entries[i], account.HistoryCount);
            Assert.True(account.Balance >= 0);
            total += account.Balance;
        }

        Assert.Equal(20 * 100 * Xmbl, total);
    }

    [Fact]
    public async Task A_reused_nonce_is_refused_with_balances_unchanged()
    {
        await using var silo = await LedgerSilo.StartAsync();
        var (alice, bob) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        await silo.Ledger.FaucetAsync(alice, 10 * Xmbl);
        Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.TransferAsync(alice, bob, 3 * Xmbl, 5)).Refusal);

        var replay = await silo.Ledger.TransferAsync(alice, bob, 3 * Xmbl, 5);
        var older = await silo.Ledger.TransferAsync(alice, bob, 1 * Xmbl, 4);

        Assert.Equal(LedgerRefusal.NonceUsed, replay.Refusal);
        Assert.Equal(LedgerRefusal.NonceUsed, older.Refusal);
        Assert.Equal(7 * Xmbl, (await silo.Ledger.GetAsync(alice)).Balance);
        Assert.Equal(3 * Xmbl, (await silo.Ledger.GetAsync(bob)).Balance);
        Assert.Equal(5, (await silo.Ledger.GetAsync(alice)).LastNonce);
    }

    [Fact]
    public async Task A_transfer_past_the_balance_is_refused_and_moves_nothing()
    {
        await using var silo = await LedgerSilo.StartAsync();
        var (alice, bob) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        await silo.Ledger.FaucetAsync(alice, 2 * Xmbl);

        var outcome = await silo.Ledger.TransferAsync(alice, bob, (2 * Xmbl) + 1, 1);

        Assert.Equal(LedgerRefusal.InsufficientFunds, outcome.Refusal);
        Assert.Equal(2 * Xmbl, outcome.Account.Balance);
        Assert.Equal(0, (await silo.Ledger.GetAsync(bob)).Balance);
        // The refused nonce stays free.
        Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.TransferAsync(alice, bob, 2 * Xmbl, 1)).Refusal);
    }

    [Fact]
    public async Task A_redelivered_credit_is_taken_once()
    {
        await using var silo = await LedgerSilo.StartAsync();
        var (alice, bob) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        var credit = new TransferCredit(alice + "/1", alice, bob, 1, 5 * Xmbl, DateTimeOffset.UtcNow);

        await silo.Account(bob).CreditAsync(credit);
        await silo.Account(bob).CreditAsync(credit);

        var account = await silo.Ledger.GetAsync(bob);
        Assert.Equal(5 * Xmbl, account.Balance);
        Assert.Equal(1, account.HistoryCount);
    }

    [Fact]
    public async Task A_credit_owed_when_the_receiver_fails_is_delivered_by_the_reminder_after_a_restart()
    {
        var failing = new FailingCredits();
        var settings = new Dictionary<string, string?> { ["Xmbl:Ledger:DeliveryRetryPeriod"] = "00:00:01" };
        var first = true;
        await using var silo = await LedgerSilo.StartAsync(settings, services: s =>
        {
            // Only the first start fails credits; the restarted silo delivers.
            if (first)
            {
                s.AddSingleton<IIncomingGrainCallFilter>(failing);
                first = false;
            }
        });
        var (alice, bob) = (LedgerSilo.NewAccount(), LedgerSilo.NewAccount());
        failing.Receiver = bob;
        await silo.Ledger.FaucetAsync(alice, 10 * Xmbl);

        var outcome = await silo.Ledger.TransferAsync(alice, bob, 4 * Xmbl, 1);

        Assert.Equal(LedgerRefusal.Done, outcome.Refusal);
        Assert.False(outcome.Delivered);
        Assert.Equal(6 * Xmbl, outcome.Account.Balance);
        Assert.Equal(4 * Xmbl, outcome.Account.PendingOut);
        Assert.Equal(0, (await silo.Ledger.GetAsync(bob)).Balance);

        await silo.RestartAsync();

        // Nobody calls alice: her reminder delivers the credit she owes, and drops it from her outbox once bob has it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (((await silo.Ledger.GetAsync(bob)).Balance == 0 || (await silo.Ledger.GetAsync(alice)).PendingOut != 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(4 * Xmbl, (await silo.Ledger.GetAsync(bob)).Balance);
        var after = await silo.Ledger.GetAsync(alice);
        Assert.Equal(6 * Xmbl, after.Balance);
        Assert.Equal(0, after.PendingOut);
    }

    [Fact]
    public async Task History_pages_list_every_entry_once_in_order_across_sealed_pages()
    {
        var treasury = LedgerSilo.NewAccount();
        await using var silo = await LedgerSilo.StartAsync(new Dictionary<string, string?> { ["Xmbl:Ledger:Treasury"] = treasury });
        for (var i = 1; i <= 250; i++)
        {
            Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.MintAsync(i, i)).Refusal);
        }

        var seen = new List<LedgerEntry>();
        long after = 0;
        while (true)
        {
            var (items, next) = await silo.Ledger.HistoryAsync(treasury, after, 30);
            seen.AddRange(items);
            if (next is not { } n)
            {
                break;
            }

            after = n;
        }

        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), seen.Select(e => e.Seq));
        Assert.All(seen, e => Assert.Equal(LedgerEntryKind.Mint, e.Kind));
        Assert.Equal(250L * 251 / 2, seen[^1].Balance);
        Assert.Empty((await silo.Ledger.HistoryAsync(treasury, 250, 30)).Items);
    }

    [Fact]
    public async Task History_entries_moved_to_their_page_before_a_restart_are_listed_once_and_moved_again_without_copies()
    {
        var treasury = LedgerSilo.NewAccount();
        await using var silo = await LedgerSilo.StartAsync(new Dictionary<string, string?> { ["Xmbl:Ledger:Treasury"] = treasury });
        for (var i = 1; i <= 20; i++)
        {
            await silo.Ledger.MintAsync(1, i);
        }

        // The 20 entries are in their page now, and still in the account's stored state (the removal waits for its next write).
        await silo.RestartAsync();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), (await silo.Ledger.HistoryAsync(treasury, 0, 100)).Items.Select(e => e.Seq));
        await silo.Ledger.MintAsync(1, 21);

        var items = (await silo.Ledger.HistoryAsync(treasury, 0, 100)).Items;
        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), items.Select(e => e.Seq));
        Assert.Equal(21, items[^1].Balance);
    }

    [Fact]
    public async Task The_faucet_keeps_to_its_limits_per_request_and_per_window()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));
        await using var silo = await LedgerSilo.StartAsync(
            new Dictionary<string, string?>
            {
                ["Xmbl:Ledger:Faucet:MaxPerRequest"] = (5 * Xmbl).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Xmbl:Ledger:Faucet:MaxPerWindow"] = (8 * Xmbl).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Xmbl:Ledger:Faucet:Window"] = "01:00:00",
            },
            clock);
        var alice = LedgerSilo.NewAccount();

        Assert.Equal(LedgerRefusal.FaucetLimit, (await silo.Ledger.FaucetAsync(alice, (5 * Xmbl) + 1)).Refusal);
        Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.FaucetAsync(alice, 5 * Xmbl)).Refusal);
        clock.Advance(TimeSpan.FromMinutes(30));
        var over = await silo.Ledger.FaucetAsync(alice, 4 * Xmbl);
        Assert.Equal(LedgerRefusal.FaucetLimit, over.Refusal);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(30), over.RetryAfter);
        Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.FaucetAsync(alice, 3 * Xmbl)).Refusal);
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(LedgerRefusal.Done, (await silo.Ledger.FaucetAsync(alice, 5 * Xmbl)).Refusal);

        Assert.Equal(13 * Xmbl, (await silo.Ledger.GetAsync(alice)).Balance);
    }

    [Fact]
    public async Task The_faucet_is_off_in_cluster_mode_unless_configured_and_on_in_embedded_mode()
    {
        await using var silo = await LedgerSilo.StartAsync();
        Assert.True(silo.Ledger.FaucetEnabled);
        var off = new LedgerService(
            silo.Services.GetRequiredService<IGrainFactory>(),
            silo.Services.GetRequiredService<Persistence.Sql.IGrainStateQuery>(),
            TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new LedgerOptions()),
            new LedgerMode(Embedded: false));
        var on = new LedgerService(
            silo.Services.GetRequiredService<IGrainFactory>(),
            silo.Services.GetRequiredService<Persistence.Sql.IGrainStateQuery>(),
            TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new LedgerOptions { Faucet = new FaucetOptions { Enabled = true } }),
            new LedgerMode(Embedded: false));

        Assert.False(off.FaucetEnabled);
        await Assert.ThrowsAsync<InvalidOperationException>(() => off.FaucetAsync(LedgerSilo.NewAccount(), 1));
        Assert.True(on.FaucetEnabled);
    }

    /// <summary>Fails every credit to one receiver, as a receiver whose silo is down would.</summary>
    private sealed class FailingCredits : IIncomingGrainCallFilter
    {
        public volatile string? Receiver;

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.Name == nameof(IAccountGrain.CreditAsync) && context.TargetId.Key.ToString() == Receiver)
            {
                throw new InvalidOperationException("receiver unreachable (test)");
            }

            return context.Invoke();
        }
    }
}
