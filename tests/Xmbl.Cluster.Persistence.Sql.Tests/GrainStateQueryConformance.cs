using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// What <see cref="IGrainStateQuery"/> must do on every backend, over state written by real grains through the
/// backend's grain storage: ordinal key order, exact prefixes (LIKE metacharacters are plain), paging, cleared grains
/// skipped, a missing grain as null.
/// </summary>
internal static class GrainStateQueryConformance
{
    public static async Task RunAsync(IGrainFactory grains, IGrainStateQuery query)
    {
        const string Name = LabelGrain.StateName;
        // No key has the shape of an integer or GUID key ("a", "ab", 32 hex digits), which the AdoNet provider stores as
        // numbers (see PostgresGrainStateQueryTests).
        string[] keys = ["a%b", "a%c", "a_b", "aXb", "aY", "a-", "b/1", "b/2", "b/3", "b/4", "b/5", "Z", "é", "a%", "job-\u00e9-1", "long/" + new string('x', 450) + "/2", "long/" + new string('x', 450) + "/1"];
        for (var i = 0; i < keys.Length; i++)
        {
            await grains.GetGrain<ILabelGrain>(keys[i]).SetAsync(i, keys[i]);
        }

        // Written twice: version 2.
        await grains.GetGrain<ILabelGrain>("b/3").SetAsync(33, "b/3 again");

        var all = await query.ListAsync<CounterState>(Name, null, null, 1000);
        Assert.Equal(keys.Order(StringComparer.Ordinal), all.Select(e => e.Key));
        Assert.All(all, e => Assert.Equal(e.Key == "b/3" ? "b/3 again" : e.Key, e.State.Note));
        Assert.Equal(2, all.Single(e => e.Key == "b/3").Version);
        Assert.Equal(1, all.Single(e => e.Key == "a-").Version);
        Assert.All(all, e => Assert.InRange(e.UpdatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));

        // Prefixes are exact text: '%' and '_' match only themselves.
        Assert.Equal(["a%", "a%b", "a%c"], (await query.ListAsync<CounterState>(Name, "a%", null, 100)).Select(e => e.Key));
        Assert.Equal(["a_b"], (await query.ListAsync<CounterState>(Name, "a_", null, 100)).Select(e => e.Key));
        Assert.Empty(await query.ListAsync<CounterState>(Name, "a%z", null, 100));
        Assert.Equal(2, (await query.ListAsync<CounterState>(Name, "long/", null, 100)).Count);

        // Paging inside a prefix: each page continues after the last key of the previous one.
        var pages = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await query.ListAsync<CounterState>(Name, "b/", after, 2);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 2);
            pages.AddRange(page.Select(e => e.Key));
            after = page[^1].Key;
        }

        Assert.Equal(["b/1", "b/2", "b/3", "b/4", "b/5"], pages);
        Assert.Equal(["b/4", "b/5"], (await query.ListAsync<CounterState>(Name, "b/", "b/3", 10)).Select(e => e.Key));
        // An afterKey before the prefix starts at the prefix.
        Assert.Equal(["b/1"], (await query.ListAsync<CounterState>(Name, "b/", "a", 1)).Select(e => e.Key));
        Assert.Equal(keys.Order(StringComparer.Ordinal).SkipWhile(k => string.CompareOrdinal(k, "a%b") <= 0).Take(2), (await query.ListAsync<CounterState>(Name, null, "a%b", 2)).Select(e => e.Key));

        var one = await query.GetAsync<CounterState>(Name, "a_b");
        Assert.NotNull(one);
        Assert.Equal("a_b", one.Key);
        Assert.Equal(2, one.State.Value);
        Assert.Null(await query.GetAsync<CounterState>(Name, "never-written"));
        Assert.Null(await query.GetAsync<CounterState>("another-state", "a_b"));

        // A cleared grain has no state: skipped by listings, null by key.
        await grains.GetGrain<ILabelGrain>("b/2").ClearAsync();
        Assert.Null(await query.GetAsync<CounterState>(Name, "b/2"));
        Assert.Equal(["b/1", "b/3", "b/4", "b/5"], (await query.ListAsync<CounterState>(Name, "b/", null, 10)).Select(e => e.Key));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => query.ListAsync<CounterState>(Name, null, null, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => query.ListAsync<CounterState>(Name, null, null, 10_001));
        Assert.Single(await query.ListAsync<CounterState>(Name, null, null, 1));
    }

    /// <summary>A row whose payload is not the state's JSON is a <see cref="GrainStateReadException"/> naming state and key.</summary>
    public static async Task RunUnreadableAsync(IGrainStorage storage, IGrainStateQuery query, Func<Task> corruptRow)
    {
        const string Name = "unreadable";
        await storage.WriteStateAsync(Name, GrainId.Create("xmbl-test", "broken"), new GrainState<CounterState>(new CounterState { Value = 1 }));
        await corruptRow();
        var get = await Assert.ThrowsAsync<GrainStateReadException>(() => query.GetAsync<CounterState>(Name, "broken"));
        Assert.Equal(Name, get.StateName);
        Assert.Equal("broken", get.GrainKey);
        Assert.Contains("'broken'", get.Message, StringComparison.Ordinal);
        var list = await Assert.ThrowsAsync<GrainStateReadException>(() => query.ListAsync<CounterState>(Name, null, null, 10));
        Assert.Equal("broken", list.GrainKey);
    }
}
