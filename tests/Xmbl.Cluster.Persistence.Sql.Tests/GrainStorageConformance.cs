using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql.Tests.Grains;

namespace Xmbl.Cluster.Persistence.Sql.Tests;

/// <summary>
/// The grain storage contract our SQL must give Orleans' AdoNet provider, driven through the provider itself
/// (<see cref="IGrainStorage"/>): versions as ETags, optimistic concurrency, clear, and distinct keys kept apart.
/// </summary>
internal static class GrainStorageConformance
{
    public static async Task RunAsync(IGrainStorage storage, string run)
    {
        const string StateName = "conformance";
        var id = GrainId.Create("xmbl-conformance", $"{run}-a");
        var other = GrainId.Create("xmbl-conformance", $"{run}-b");
        var longKey = GrainId.Create("xmbl-conformance", run + new string('k', 3000));

        var fresh = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(StateName, id, fresh);
        Assert.False(fresh.RecordExists);
        Assert.Null(fresh.ETag);

        var first = State(1, "first");
        await storage.WriteStateAsync(StateName, id, first);
        Assert.Equal("1", first.ETag);
        Assert.True(first.RecordExists);

        var second = State(2, "second", first.ETag);
        await storage.WriteStateAsync(StateName, id, second);
        Assert.Equal("2", second.ETag);

        // A writer holding the old version, and a second "first writer" (double activation), both conflict.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, State(99, "stale", "1")));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, State(99, "double", null)));

        var read = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.True(read.RecordExists);
        Assert.Equal("2", read.ETag);
        Assert.Equal(2, read.State!.Value);
        Assert.Equal("second", read.State!.Note);

        // Another key and a very long key are their own rows.
        var otherState = State(7, "other");
        await storage.WriteStateAsync(StateName, other, otherState);
        var longState = State(8, "long");
        await storage.WriteStateAsync(StateName, longKey, longState);
        Assert.Equal("1", otherState.ETag);
        Assert.Equal("1", longState.ETag);
        var longRead = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(StateName, longKey, longRead);
        Assert.Equal(8, longRead.State!.Value);

        // Clear keeps a version, so a stale writer still conflicts afterwards; a stale clear conflicts too.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, State(0, "stale clear", "1")));
        await storage.ClearStateAsync(StateName, id, read);
        Assert.Equal("3", read.ETag);
        Assert.False(read.RecordExists);
        var cleared = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(StateName, id, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Equal("3", cleared.ETag);
        Assert.Equal(0, cleared.State!.Value);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, State(5, "stale after clear", "2")));

        var again = State(4, "again", cleared.ETag);
        await storage.WriteStateAsync(StateName, id, again);
        Assert.Equal("4", again.ETag);

        var otherRead = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(StateName, other, otherRead);
        Assert.Equal(7, otherRead.State!.Value);
        Assert.Equal("1", otherRead.ETag);
    }

    /// <summary>With <c>DeleteStateOnClear</c>: a clear removes the row, so the grain starts over at version 1.</summary>
    public static async Task RunDeleteOnClearAsync(IGrainStorage storage, string run)
    {
        const string StateName = "conformance-delete";
        var id = GrainId.Create("xmbl-conformance", $"{run}-deleted");
        var state = State(3, "three");
        await storage.WriteStateAsync(StateName, id, state);
        Assert.Equal("1", state.ETag);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, State(0, "stale", "7")));
        await storage.ClearStateAsync(StateName, id, state);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);

        var read = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);

        var again = State(4, "again");
        await storage.WriteStateAsync(StateName, id, again);
        Assert.Equal("1", again.ETag);
    }

    private static GrainState<CounterState> State(int value, string note, string? etag = null) =>
        new(new CounterState { Value = value, Note = note }, etag) { RecordExists = etag is not null };
}
