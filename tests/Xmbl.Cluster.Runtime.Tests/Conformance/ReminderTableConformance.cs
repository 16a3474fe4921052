using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Reminders;
using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests.Conformance;

/// <summary>The reminder table contract: upsert, delete, list, atomic claims of due ticks.</summary>
public abstract class ReminderTableConformance : BackendTestBase
{
    private static readonly GrainId Grain = new("ITickGrain", "g1");
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private ReminderEntry Entry(string name, TimeSpan due, string key = "g1")
    {
        var start = Time.GetUtcNow() + due;
        return new ReminderEntry(Grain.Type, key, name, start, Period, start);
    }

    [Fact]
    public async Task Upsert_ThenList_ReturnsReminder()
    {
        var table = (await OpenBackendAsync()).Reminders;
        var entry = Entry("r", TimeSpan.FromSeconds(5));
        await table.UpsertAsync(entry, default);
        Assert.Equal(entry, Assert.Single(await table.ListAsync(Grain, default)));
    }

    [Fact]
    public async Task Upsert_Existing_ReplacesSchedule()
    {
        var table = (await OpenBackendAsync()).Reminders;
        await table.UpsertAsync(Entry("r", TimeSpan.FromSeconds(5)), default);
        var changed = Entry("r", TimeSpan.FromMinutes(1)) with { Period = TimeSpan.FromMinutes(2) };
        await table.UpsertAsync(changed, default);
        Assert.Equal(changed, Assert.Single(await table.ListAsync(Grain, default)));
    }

    [Fact]
    public async Task Delete_RemovesOnlyThatReminder()
    {
        var table = (await OpenBackendAsync()).Reminders;
        await table.UpsertAsync(Entry("a", TimeSpan.Zero), default);
        await table.UpsertAsync(Entry("b", TimeSpan.Zero), default);
        Assert.True(await table.DeleteAsync(Grain, "a", default));
        Assert.False(await table.DeleteAsync(Grain, "a", default));
        Assert.Equal("b", Assert.Single(await table.ListAsync(Grain, default)).Name);
    }

    [Fact]
    public async Task ClaimDue_BeforeDue_ClaimsNothing_AndReportsNextDue()
    {
        var table = (await OpenBackendAsync()).Reminders;
        var entry = Entry("r", TimeSpan.FromSeconds(5));
        await table.UpsertAsync(entry, default);
        Assert.Empty(await table.ClaimDueAsync(Time.GetUtcNow(), 10, default));
        Assert.Equal(entry.NextDue, await table.GetNextDueAsync(default));
    }

    [Fact]
    public async Task ClaimDue_WhenDue_ClaimsOnceAndMovesToNextPeriod()
    {
        var table = (await OpenBackendAsync()).Reminders;
        var entry = Entry("r", TimeSpan.FromSeconds(5));
        await table.UpsertAsync(entry, default);
        Time.Advance(TimeSpan.FromSeconds(6));

        var tick = Assert.Single(await table.ClaimDueAsync(Time.GetUtcNow(), 10, default));
        var again = await table.ClaimDueAsync(Time.GetUtcNow(), 10, default);

        Assert.Equal(entry.StartAt, tick.TickTime);
        Assert.Equal((entry.StartAt, Period, "r"), (tick.StartAt, tick.Period, tick.Name));
        Assert.Empty(again);
        Assert.Equal(entry.StartAt + Period, await table.GetNextDueAsync(default));
    }

    [Fact]
    public async Task ClaimDue_AfterMissedPeriods_DeliversLatestTickOnly()
    {
        var table = (await OpenBackendAsync()).Reminders;
        var entry = Entry("r", TimeSpan.Zero);
        await table.UpsertAsync(entry, default);
        Time.Advance(TimeSpan.FromSeconds(35));

        var tick = Assert.Single(await table.ClaimDueAsync(Time.GetUtcNow(), 10, default));

        Assert.Equal(entry.StartAt + TimeSpan.FromSeconds(30), tick.TickTime);
        Assert.Equal(entry.StartAt + TimeSpan.FromSeconds(40), await table.GetNextDueAsync(default));
    }

    [Fact]
    public async Task ClaimDue_RespectsLimit()
    {
        var table = (await OpenBackendAsync()).Reminders;
        for (var i = 0; i < 5; i++)
        {
            await table.UpsertAsync(Entry("r", TimeSpan.Zero, key: $"g{i}"), default);
        }

        Assert.Equal(3, (await table.ClaimDueAsync(Time.GetUtcNow(), 3, default)).Count);
        Assert.Equal(2, (await table.ClaimDueAsync(Time.GetUtcNow(), 3, default)).Count);
    }

    [Fact]
    public async Task ClaimDue_ConcurrentClaimersOnSeparateConnections_EachTickClaimedExactlyOnce()
    {
        var first = await OpenBackendAsync();
        var second = await OpenBackendAsync(LastTarget);
        for (var i = 0; i < 40; i++)
        {
            await first.Reminders.UpsertAsync(Entry("r", TimeSpan.Zero, key: $"g{i}"), default);
        }

        var now = Time.GetUtcNow();
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var table = (i % 2 == 0 ? first : second).Reminders;
            var mine = new List<ReminderTick>();
            IReadOnlyList<ReminderTick> batch;
            do
            {
                batch = await table.ClaimDueAsync(now, 3, default);
                mine.AddRange(batch);
            }
            while (batch.Count > 0);
            return mine;
        })));

        var all = claims.SelectMany(c => c).Select(t => t.GrainKey).ToList();
        Assert.Equal(40, all.Count);
        Assert.Equal(40, all.Distinct().Count());
    }
}

[Trait("Suite", "Functional")]
public sealed class SqliteReminderTableTests : ReminderTableConformance
{
    private readonly SqliteTargets _targets = new();

    protected override Task<BackendTarget> NewTargetAsync() => Task.FromResult<BackendTarget>(_targets.New());

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _targets.Dispose();
    }
}

[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class PostgresReminderTableTests(PostgresFixture postgres) : ReminderTableConformance
{
    protected override async Task<BackendTarget> NewTargetAsync() => new PostgresTarget(await postgres.CreateDatabaseAsync());
}
