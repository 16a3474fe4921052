using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xmbl.Cluster.Runtime.Core;
using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests.Conformance;

/// <summary>Grain calls, membership and reminders end to end through hosted silos, on each backend.</summary>
public abstract class GrainRuntimeConformance : BackendTestBase
{
    private readonly List<TestSilo> _silos = [];

    private async Task<TestSilo> StartSiloAsync(BackendTarget target, Action<Options.SiloOptions>? configure = null, TickLog? log = null, CallBarrier? barrier = null)
    {
        var silo = await TestSilo.StartAsync(target, Time, configure, log, barrier);
        _silos.Add(silo);
        return silo;
    }

    public override async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task Call_OnNewGrain_StartsFromDefaultStateAndPersists()
    {
        var target = await NewTargetAsync();
        var silo = await StartSiloAsync(target);
        var counter = silo.Factory.GetGrain<ICounterGrain>("c1");
        Assert.Equal(0, await counter.GetAsync());
        Assert.Equal(1, await counter.IncrementAsync());
        Assert.Equal(6, await counter.AddAsync(5, default));
        Assert.Equal(6, await counter.GetValueAsync());
        var stored = await silo.Backend.States.ReadAsync(new GrainId("ICounterGrain", "c1"), default);
        Assert.Equal(2, stored!.Version);
        Assert.Equal("{\"Value\":6}", Encoding.UTF8.GetString(stored.State));
    }

    [Fact]
    public async Task GrainState_SurvivesHostRestart()
    {
        var target = await NewTargetAsync();
        await using (var first = await TestSilo.StartAsync(target, Time))
        {
            for (var i = 0; i < 3; i++)
            {
                await first.Factory.GetGrain<ICounterGrain>("durable").IncrementAsync();
            }

            await first.Factory.GetGrain<IAccountGrain>(Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff")).DepositAsync(42);
        }

        var second = await StartSiloAsync(target);
        Assert.Equal(3, await second.Factory.GetGrain<ICounterGrain>("durable").GetAsync());
        Assert.Equal(42, await second.Factory.GetGrain<IAccountGrain>(Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff")).GetBalanceAsync());
    }

    [Fact]
    public async Task GuidKeyGrain_SeesItsKey()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var key = Guid.NewGuid();
        Assert.Equal(key, await silo.Factory.GetGrain<IAccountGrain>(key).GetKeyAsync());
    }

    [Fact]
    public async Task Call_UnchangedState_DoesNotWrite()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var counter = silo.Factory.GetGrain<ICounterGrain>("ro");
        await counter.GetAsync();
        Assert.Null(await silo.Backend.States.ReadAsync(new GrainId("ICounterGrain", "ro"), default));
        await counter.IncrementAsync();
        await counter.GetAsync();
        await counter.GetValueAsync();
        Assert.Equal(1, (await silo.Backend.States.ReadAsync(new GrainId("ICounterGrain", "ro"), default))!.Version);
    }

    [Fact]
    public async Task Call_WhenMethodThrows_StateIsNotSaved()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var counter = silo.Factory.GetGrain<ICounterGrain>("f");
        await counter.IncrementAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(counter.FailAfterChangeAsync);
        Assert.Equal(1, await counter.GetAsync());
    }

    [Fact]
    public async Task Call_ResetByAssigningState_IsSaved()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var counter = silo.Factory.GetGrain<ICounterGrain>("r");
        await counter.AddAsync(7, default);
        await counter.ResetAsync();
        Assert.Equal(0, await counter.GetAsync());
    }

    [Fact]
    public async Task Call_WithCancelledToken_ThrowsAndChangesNothing()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var counter = silo.Factory.GetGrain<ICounterGrain>("cancel");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => counter.AddAsync(1, cts.Token));
        Assert.Equal(0, await counter.GetAsync());
    }

    [Fact]
    public async Task Call_ToOtherGrainFromInsideACall_Works()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        Assert.Equal(1, await silo.Factory.GetGrain<IRelayGrain>("relay").IncrementOtherAsync("target"));
        Assert.Equal(1, await silo.Factory.GetGrain<ICounterGrain>("target").GetAsync());
    }

    [Fact]
    public async Task Call_GrainCallingItself_ThrowsClearInvalidOperation()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(silo.Factory.GetGrain<ICounterGrain>("self").CallSelfAsync);
        Assert.Contains("ICounterGrain/self called itself re-entrantly", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_ChainBackToACallerUpTheStack_ThrowsClearInvalidOperation()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => silo.Factory.GetGrain<IRelayGrain>("a").BounceAsync("b"));
        Assert.Contains("IRelayGrain/a -> IRelayGrain/b -> IRelayGrain/a", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_LockCycleBetweenTwoConcurrentCalls_FailsOneInsteadOfHanging()
    {
        var barrier = new CallBarrier();
        var silo = await StartSiloAsync(await NewTargetAsync(), barrier: barrier);
        var ab = silo.Factory.GetGrain<IRelayGrain>("x").CallRelayAfterBarrierAsync("y");
        var ba = silo.Factory.GetGrain<IRelayGrain>("y").CallRelayAfterBarrierAsync("x");
        var results = await Task.WhenAll(Capture(ab), Capture(ba)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Single(results, r => r is InvalidOperationException ex && ex.Message.Contains("would deadlock", StringComparison.Ordinal));
        Assert.Single(results, r => r is string s && s.StartsWith("pong from ", StringComparison.Ordinal));

        static async Task<object> Capture(Task<string> call)
        {
            try
            {
                return await call;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }
    }

    [Fact]
    public async Task Call_OnCorruptStateRow_ThrowsGrainStateExceptionNamingGrainAndKey()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        await silo.Backend.States.WriteAsync(new GrainId("ICounterGrain", "broken-7"), Encoding.UTF8.GetBytes("{not json"), 0, default);

        var ex = await Assert.ThrowsAsync<GrainStateException>(silo.Factory.GetGrain<ICounterGrain>("broken-7").GetAsync);

        Assert.Contains("ICounterGrain/broken-7", ex.Message, StringComparison.Ordinal);
        Assert.Equal(("ICounterGrain", "broken-7"), (ex.GrainType, ex.GrainKey));
        // The row is untouched: nothing overwrote it with empty state.
        Assert.Equal("{not json", Encoding.UTF8.GetString((await silo.Backend.States.ReadAsync(new GrainId("ICounterGrain", "broken-7"), default))!.State));
    }

    [Fact]
    public async Task StateQuery_ListsTypedStatePages_AndReportsCorruptRows()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        for (var i = 1; i <= 5; i++)
        {
            await silo.Factory.GetGrain<ICounterGrain>($"n{i}").AddAsync(i, default);
        }

        var query = silo.Host.Services.GetRequiredService<IGrainStateQuery>();
        var page = await query.ListAsync<CounterState>("ICounterGrain", "n", "n2", 2);
        Assert.Equal([("n3", 3), ("n4", 4)], page.Select(e => (e.Key, e.State.Value)));
        Assert.All(page, e => Assert.Equal(1, e.Version));

        await silo.Backend.States.WriteAsync(new GrainId("ICounterGrain", "n9"), Encoding.UTF8.GetBytes("[]"), 0, default);
        var ex = await Assert.ThrowsAsync<GrainStateException>(() => query.ListAsync<CounterState>("ICounterGrain", null, null, 100));
        Assert.Contains("ICounterGrain/n9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateQuery_GetsOneGrainByKey_NullWithoutState_AndReportsACorruptRow()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        await silo.Factory.GetGrain<ICounterGrain>("g1").AddAsync(7, default);
        await silo.Factory.GetGrain<ICounterGrain>("g1").AddAsync(1, default);

        var query = silo.Host.Services.GetRequiredService<IGrainStateQuery>();
        var entry = await query.GetAsync<CounterState>("ICounterGrain", "g1");
        Assert.NotNull(entry);
        Assert.Equal(("g1", 8, 2L), (entry.Key, entry.State.Value, entry.Version));
        Assert.Null(await query.GetAsync<CounterState>("ICounterGrain", "g2"));
        Assert.Null(await query.GetAsync<CounterState>("IOtherGrain", "g1"));

        await silo.Backend.States.WriteAsync(new GrainId("ICounterGrain", "broken"), Encoding.UTF8.GetBytes("[]"), 0, default);
        var ex = await Assert.ThrowsAsync<GrainStateException>(() => query.GetAsync<CounterState>("ICounterGrain", "broken"));
        Assert.Contains("ICounterGrain/broken", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_OnStartAndStop_IsActiveThenDeadInMembership()
    {
        var target = await NewTargetAsync();
        var observer = await StartSiloAsync(target);
        await using (var silo = await TestSilo.StartAsync(target, Time, o => o.SiloId = "lifecycle"))
        {
            var membership = observer.Host.Services.GetRequiredService<IClusterMembership>();
            Assert.Equal(SiloStatus.Active, (await membership.GetSilosAsync()).Single(s => s.SiloId == "lifecycle").Status);
        }

        var after = await observer.Host.Services.GetRequiredService<IClusterMembership>().GetSilosAsync();
        Assert.Equal(SiloStatus.Dead, after.Single(s => s.SiloId == "lifecycle").Status);
        Assert.Equal(SiloStatus.Active, after.Single(s => s.SiloId == observer.SiloId).Status);
    }

    [Fact]
    public async Task Silo_ThatStopsHeartbeating_IsDeclaredDeadWithinTheLimit_AndStopsItselfWhenItNotices()
    {
        var target = await NewTargetAsync();
        var hung = await StartSiloAsync(target, o => o.SiloId = "hung");
        var watcher = await StartSiloAsync(target, o => o.SiloId = "watcher");
        var membership = watcher.Host.Services.GetRequiredService<IClusterMembership>();
        hung.Service.Membership.PauseHeartbeats = true;
        var pausedAt = Time.GetUtcNow();

        // Heartbeat 2 s, death timeout 10 s: alive up to 10 s after the last heartbeat, dead by 12 s.
        while (Time.GetUtcNow() - pausedAt < TimeSpan.FromSeconds(10))
        {
            await StepAsync(watcher, TimeSpan.FromSeconds(2));
            Assert.Equal(SiloStatus.Active, (await membership.GetSilosAsync()).Single(s => s.SiloId == "hung").Status);
        }

        await StepAsync(watcher, TimeSpan.FromSeconds(2));
        var silos = await membership.GetSilosAsync();
        Assert.Equal(SiloStatus.Dead, silos.Single(s => s.SiloId == "hung").Status);
        Assert.Equal(SiloStatus.Active, silos.Single(s => s.SiloId == "watcher").Status);

        var lifetime = hung.Host.Services.GetRequiredService<IHostApplicationLifetime>();
        hung.Service.Membership.PauseHeartbeats = false;
        await StepAsync(hung, TimeSpan.FromSeconds(2));
        Assert.True(lifetime.ApplicationStopping.IsCancellationRequested, "a silo declared dead must stop itself");
    }

    private async Task StepAsync(TestSilo silo, TimeSpan by)
    {
        Time.Advance(by);
        await silo.Service.Membership.Progress.WaitAsync(Time.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Reminder_WithTwoSilos_FiresOncePerPeriod_AndKeepsFiringWhenOneStops()
    {
        var target = await NewTargetAsync();
        var log = new TickLog();
        static void Configure(Options.SiloOptions o, string id)
        {
            o.SiloId = id;
            o.DeathTimeout = TimeSpan.FromHours(1); // only reminders are under test; big clock jumps must not kill silos
        }

        var a = await StartSiloAsync(target, o => Configure(o, "a"), log);
        var b = await StartSiloAsync(target, o => Configure(o, "b"), log);
        var period = TimeSpan.FromSeconds(10);
        var start = Time.GetUtcNow();
        await a.Factory.GetGrain<ITickGrain>("t").StartAsync(period, period);
        await WaitForRemindersAsync(Time.GetUtcNow(), a, b);

        for (var n = 1; n <= 3; n++)
        {
            Time.Advance(period);
            await log.WaitForCountAsync(n);
            await WaitForRemindersAsync(Time.GetUtcNow(), a, b);
            Assert.Equal(n, log.Ticks.Count);
        }

        await a.StopAsync();
        for (var n = 4; n <= 6; n++)
        {
            Time.Advance(period);
            await log.WaitForCountAsync(n);
            await WaitForRemindersAsync(Time.GetUtcNow(), b);
            Assert.Equal(n, log.Ticks.Count);
        }

        var ticks = log.Ticks.Select(t => t.Status.CurrentTickTime).ToList();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => start + (period * i)), ticks);
        Assert.All(log.Ticks, t => Assert.Equal((start + period, period), (t.Status.FirstTickTime, t.Status.Period)));
        Assert.Equal(ticks, await b.Factory.GetGrain<ITickGrain>("t").GetTicksAsync());

        await b.Factory.GetGrain<ITickGrain>("t").StopAsync();
        Time.Advance(period);
        await WaitForRemindersAsync(Time.GetUtcNow(), b);
        Assert.Equal(6, log.Ticks.Count);
    }

    [Fact]
    public async Task Reminder_RegisteredFromAnotherProcess_WakesTheSiloWithoutWaitingForThePoll()
    {
        var target = await NewTargetAsync();
        var log = new TickLog();
        var silo = await StartSiloAsync(target, o => o.ReminderPollPeriod = TimeSpan.FromHours(1), log);
        await using var client = await TestSilo.StartAsync(target, Time, o => o.ClientOnly = true);
        await WaitForRemindersAsync(Time.GetUtcNow(), silo);

        // Due now; the clock does not move, so only a wake-up (NOTIFY / in-process signal) can get it delivered.
        await client.Factory.GetGrain<ITickGrain>("woken").StartAsync(TimeSpan.Zero, TimeSpan.FromHours(1));

        await log.WaitForCountAsync(1);
        Assert.Equal(("woken", Time.GetUtcNow()), (log.Ticks[0].Key, log.Ticks[0].Status.CurrentTickTime));
    }

    private static Task WaitForRemindersAsync(DateTimeOffset at, params TestSilo[] silos) =>
        Task.WhenAll(silos.Select(s => s.Service.Reminders.Progress.WaitAsync(at))).WaitAsync(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Reminder_OnGrainThatIsNotRemindable_IsRefused()
    {
        var silo = await StartSiloAsync(await NewTargetAsync());
        var registration = silo.Runtime.Registry.Get(typeof(ICounterGrain));
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            silo.Runtime.Reminders.RegisterOrUpdateAsync(registration, new GrainId("ICounterGrain", "x"), "r", TimeSpan.Zero, TimeSpan.FromSeconds(1), default));
    }
}

[Trait("Suite", "Functional")]
public sealed class SqliteGrainRuntimeTests : GrainRuntimeConformance
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
public sealed class PostgresGrainRuntimeTests(PostgresFixture postgres) : GrainRuntimeConformance
{
    protected override async Task<BackendTarget> NewTargetAsync() => new PostgresTarget(await postgres.CreateDatabaseAsync());
}
