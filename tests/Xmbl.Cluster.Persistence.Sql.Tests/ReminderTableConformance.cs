using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// The reminder table contract our SQL must give Orleans' AdoNet reminder table, driven through the provider's own
/// <see cref="IReminderTable"/> (built from its registration, no silo): versions as ETags, conditional delete, and the
/// ring-range reads in both forms (a range that wraps in signed order and one that does not).
/// </summary>
internal static class ReminderTableConformance
{
    public static IReminderTable Create(string invariant, string connectionString, string serviceId)
    {
        var services = new ServiceCollection();
        services.AddOptions();
        services.Configure<ClusterOptions>(o =>
        {
            o.ServiceId = serviceId;
            o.ClusterId = "xmbl-conformance";
        });
        services.UseAdoNetReminderService(options => options.Configure(o =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
        }));
        return services.BuildServiceProvider().GetRequiredService<IReminderTable>();
    }

    public static async Task RunAsync(IReminderTable table)
    {
        await table.StartAsync(CancellationToken.None);
        var grain = GrainId.Create("xmbl-conformance", "reminded");
        var other = GrainId.Create("xmbl-conformance", "other");
        var start = new DateTime(2026, 12, 7, 8, 0, 0, 123, DateTimeKind.Utc);

        var etag = await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "a", StartAt = start, Period = TimeSpan.FromMinutes(5) });
        Assert.Equal("0", etag);
        var etag2 = await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "a", StartAt = start.AddHours(1), Period = TimeSpan.FromDays(40) });
        Assert.Equal("1", etag2);
        Assert.Equal("0", await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "b", StartAt = start, Period = TimeSpan.FromSeconds(1) }));
        Assert.Equal("0", await table.UpsertRow(new ReminderEntry { GrainId = other, ReminderName = "a", StartAt = start, Period = TimeSpan.FromSeconds(1) }));

        // The re-registration replaced the first (a period over int.MaxValue ms included); the time keeps its milliseconds.
        var a = await table.ReadRow(grain, "a");
        Assert.NotNull(a);
        Assert.Equal(grain, a.GrainId);
        Assert.Equal(start.AddHours(1), a.StartAt);
        Assert.Equal(TimeSpan.FromDays(40), a.Period);
        Assert.Equal("1", a.ETag);
        Assert.Null(await table.ReadRow(grain, "missing"));
        Assert.Equal(["a", "b"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName).Order());

        // Ring ranges are (begin, end]; the provider picks the plain query when begin < end as signed integers.
        var hash = grain.GetUniformHashCode();
        Assert.True((int)hash is > int.MinValue + 1 and < int.MaxValue - 1, "pick another grain key: this hash sits on the signed boundary");
        Assert.Equal(2, Count(await table.ReadRows(hash - 1, hash), grain));
        Assert.Equal(0, Count(await table.ReadRows(hash, hash + 1), grain));
        Assert.Equal(2, Count(await table.ReadRows(hash + 1, hash), grain));
        Assert.Equal(0, Count(await table.ReadRows(hash, hash - 1), grain));

        // Delete needs the current version.
        Assert.False(await table.RemoveRow(grain, "a", "0"));
        Assert.True(await table.RemoveRow(grain, "a", "1"));
        Assert.False(await table.RemoveRow(grain, "a", "1"));
        Assert.Null(await table.ReadRow(grain, "a"));
        Assert.NotNull(await table.ReadRow(grain, "b"));

        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(other)).Reminders);
    }

    private static int Count(ReminderTableData data, GrainId grain) => data.Reminders.Count(r => r.GrainId == grain);
}
