using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests.Conformance;

/// <summary>The membership table contract: join, heartbeat, status changes, death declaration.</summary>
public abstract class MembershipTableConformance : BackendTestBase
{
    private static SiloEntry Entry(string id, DateTimeOffset at) => new(id, $"{id}:11111", SiloStatus.Joining, at, at);

    [Fact]
    public async Task Join_ThenList_ShowsSiloAsJoining()
    {
        var table = (await OpenBackendAsync()).Membership;
        var now = Time.GetUtcNow();
        await table.JoinAsync(Entry("a", now), default);
        var silo = Assert.Single(await table.ListAsync(default));
        Assert.Equal(new SiloEntry("a", "a:11111", SiloStatus.Joining, now, now), silo);
    }

    [Fact]
    public async Task SetStatus_Active_IsListed()
    {
        var table = (await OpenBackendAsync()).Membership;
        await table.JoinAsync(Entry("a", Time.GetUtcNow()), default);
        await table.SetStatusAsync("a", SiloStatus.Active, Time.GetUtcNow(), default);
        Assert.Equal(SiloStatus.Active, Assert.Single(await table.ListAsync(default)).Status);
    }

    [Fact]
    public async Task Heartbeat_UpdatesLastHeartbeat_AndReturnsStatus()
    {
        var table = (await OpenBackendAsync()).Membership;
        var start = Time.GetUtcNow();
        await table.JoinAsync(Entry("a", start), default);
        await table.SetStatusAsync("a", SiloStatus.Active, start, default);
        Time.Advance(TimeSpan.FromSeconds(3));
        var status = await table.HeartbeatAsync("a", Time.GetUtcNow(), default);
        var silo = Assert.Single(await table.ListAsync(default));
        Assert.Equal(SiloStatus.Active, status);
        Assert.Equal(Time.GetUtcNow(), silo.LastHeartbeat);
        Assert.Equal(start, silo.StartedAt);
    }

    [Fact]
    public async Task Heartbeat_UnknownSilo_ReturnsNull()
    {
        var table = (await OpenBackendAsync()).Membership;
        Assert.Null(await table.HeartbeatAsync("nobody", Time.GetUtcNow(), default));
    }

    [Fact]
    public async Task MarkDead_OnlySilosWithOldHeartbeats_AreDeclaredDeadOnce()
    {
        var table = (await OpenBackendAsync()).Membership;
        var t0 = Time.GetUtcNow();
        await table.JoinAsync(Entry("old", t0), default);
        await table.JoinAsync(Entry("fresh", t0), default);
        Time.Advance(TimeSpan.FromSeconds(20));
        await table.HeartbeatAsync("fresh", Time.GetUtcNow(), default);

        var first = await table.MarkDeadAsync(Time.GetUtcNow() - TimeSpan.FromSeconds(10), default);
        var second = await table.MarkDeadAsync(Time.GetUtcNow() - TimeSpan.FromSeconds(10), default);

        Assert.Equal(["old"], first);
        Assert.Empty(second);
        var silos = (await table.ListAsync(default)).ToDictionary(s => s.SiloId);
        Assert.Equal(SiloStatus.Dead, silos["old"].Status);
        Assert.Equal(SiloStatus.Joining, silos["fresh"].Status);
    }

    [Fact]
    public async Task DeadSilo_NeverComesBack()
    {
        var table = (await OpenBackendAsync()).Membership;
        await table.JoinAsync(Entry("a", Time.GetUtcNow()), default);
        Time.Advance(TimeSpan.FromMinutes(1));
        await table.MarkDeadAsync(Time.GetUtcNow(), default);

        var status = await table.HeartbeatAsync("a", Time.GetUtcNow(), default);
        await table.SetStatusAsync("a", SiloStatus.Active, Time.GetUtcNow(), default);
        await table.JoinAsync(Entry("a", Time.GetUtcNow()), default);

        Assert.Equal(SiloStatus.Dead, status);
        Assert.Equal(SiloStatus.Dead, Assert.Single(await table.ListAsync(default)).Status);
    }

    [Fact]
    public async Task List_OrdersByStartTime()
    {
        var table = (await OpenBackendAsync()).Membership;
        var t0 = Time.GetUtcNow();
        await table.JoinAsync(Entry("second", t0.AddSeconds(5)), default);
        await table.JoinAsync(Entry("first", t0), default);
        Assert.Equal(["first", "second"], (await table.ListAsync(default)).Select(s => s.SiloId));
    }
}

[Trait("Suite", "Functional")]
public sealed class SqliteMembershipTableTests : MembershipTableConformance
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
public sealed class PostgresMembershipTableTests(PostgresFixture postgres) : MembershipTableConformance
{
    protected override async Task<BackendTarget> NewTargetAsync() => new PostgresTarget(await postgres.CreateDatabaseAsync());
}
