using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MsOptions = Microsoft.Extensions.Options.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// The membership table contract our SQL must give Orleans' AdoNet clustering table, driven through the provider's
/// <see cref="AdoNetClusteringTable"/> on a cluster id of its own: every change is conditional on the table version,
/// a lost race changes nothing, liveness never moves backwards, and dead silos are cleaned up.
/// </summary>
internal static class MembershipTableConformance
{
    public static async Task RunAsync(string invariant, string connectionString)
    {
        var clusterId = $"conformance-{Guid.NewGuid():N}"[..24];
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            MsOptions.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "xmbl-conformance" }),
            MsOptions.Create(new AdoNetClusteringSiloOptions { Invariant = invariant, ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);

        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var started = new DateTime(2026, 12, 7, 8, 0, 0, 250, DateTimeKind.Utc);
        var a = Entry(1, started);
        var b = Entry(2, started);
        Assert.True(await table.InsertRowAsync(a, empty.Version.Next()));

        // A silo that read the table before that insert loses: no row, no version bump.
        Assert.False(await table.InsertRowAsync(b, empty.Version.Next()));
        var afterA = await table.ReadAllAsync();
        Assert.Single(afterA.Members);
        Assert.Equal(1, afterA.Version.Version);

        // The same silo twice is refused, and leaves the version alone.
        Assert.False(await table.InsertRowAsync(a, afterA.Version.Next()));
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);
        Assert.True(await table.InsertRowAsync(b, afterA.Version.Next()));

        var read = await table.ReadRowAsync(a.SiloAddress);
        var (row, etag) = Assert.Single(read.Members);
        Assert.Equal(a.SiloAddress, row.SiloAddress);
        Assert.Equal(a.SiloName, row.SiloName);
        Assert.Equal(a.HostName, row.HostName);
        Assert.Equal(a.ProxyPort, row.ProxyPort);
        Assert.Equal(started, row.StartTime);
        Assert.Equal(SiloStatus.Joining, row.Status);
        Assert.Equal(2, read.Version.Version);

        // Updates name the version they read; a stale one changes nothing.
        row.Status = SiloStatus.Active;
        Assert.False(await table.UpdateRowAsync(row, etag, afterA.Version.Next()));
        Assert.True(await table.UpdateRowAsync(row, etag, read.Version.Next()));
        var suspect = new List<Tuple<SiloAddress, DateTime>> { Tuple.Create(b.SiloAddress, started.AddSeconds(5)) };
        var current = await table.ReadRowAsync(a.SiloAddress);
        var (activeA, activeEtag) = Assert.Single(current.Members);
        Assert.Equal(SiloStatus.Active, activeA.Status);
        activeA.SuspectTimes = suspect;
        Assert.True(await table.UpdateRowAsync(activeA, activeEtag, current.Version.Next()));
        var suspected = Assert.Single((await table.ReadRowAsync(a.SiloAddress)).Members).Item1;
        Assert.Equal(b.SiloAddress, Assert.Single(suspected.SuspectTimes!).Item1);

        // Liveness goes forward only.
        var alive = started.AddMinutes(1);
        activeA.IAmAliveTime = alive;
        await table.UpdateIAmAliveAsync(activeA);
        activeA.IAmAliveTime = started.AddSeconds(30);
        await table.UpdateIAmAliveAsync(activeA);
        Assert.Equal(alive, Assert.Single((await table.ReadRowAsync(a.SiloAddress)).Members).Item1.IAmAliveTime);

        // B dies; once it is older than the cut-off it is cleaned up, A (alive) stays.
        var all = await table.ReadAllAsync();
        var deadB = all.Members.Single(m => m.Item1.SiloAddress.Equals(b.SiloAddress));
        deadB.Item1.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(deadB.Item1, deadB.Item2, all.Version.Next()));
        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(started.AddHours(1)));
        var remaining = await table.ReadAllAsync();
        Assert.Equal(a.SiloAddress, Assert.Single(remaining.Members).Item1.SiloAddress);

        await table.DeleteMembershipTableEntriesAsync(clusterId);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        Assert.Empty((await table.ReadAllAsync()).Members);
    }

    private static MembershipEntry Entry(int generation, DateTime started) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Parse("10.0.0.7"), 11111), generation),
        SiloName = $"silo-{generation}",
        HostName = "host-7",
        Status = SiloStatus.Joining,
        ProxyPort = 30000 + generation,
        StartTime = started,
        IAmAliveTime = started,
    };
}
