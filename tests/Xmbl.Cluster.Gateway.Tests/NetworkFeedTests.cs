using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Network;

namespace Xmbl.Cluster.Gateway.Tests;

public sealed class NetworkFeedTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static NetworkFeed Feed(FakeNetworkSource source, int maxStreams = 4, int buffer = 60) =>
        new(source, Options.Create(new NetworkFeedOptions { MaxStreams = maxStreams, StreamBuffer = buffer, RecentJobs = 50 }), new JsonSerializerOptions(JsonSerializerDefaults.Web), NullLogger<NetworkFeed>.Instance);

    [Fact]
    public async Task Feed_RunsItsSourceOnlyFromTheFirstStreamToTheLast()
    {
        var source = new FakeNetworkSource();
        using var feed = Feed(source);
        Assert.False(feed.IsRunning);

        var first = feed.TrySubscribe()!;
        var second = feed.TrySubscribe()!;
        await source.Started.WaitAsync(Wait);
        Assert.Equal(1, source.Runs);

        first.Dispose();
        Assert.True(feed.IsRunning);
        var stopped = source.Stopped;
        second.Dispose();
        await stopped.WaitAsync(Wait);
        Assert.False(feed.IsRunning);
        Assert.Equal(0, feed.Subscribers);

        using var third = feed.TrySubscribe()!;
        await source.Started.WaitAsync(Wait);
        Assert.Equal(2, source.Runs);
    }

    [Fact]
    public void TrySubscribe_WithMaxStreamsOpen_IsRefusedUntilOneCloses()
    {
        using var feed = Feed(new FakeNetworkSource(), maxStreams: 2);
        using var a = feed.TrySubscribe();
        var b = feed.TrySubscribe();
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.Null(feed.TrySubscribe());

        b!.Dispose();
        using var c = feed.TrySubscribe();
        Assert.NotNull(c);
        Assert.Equal(2, feed.Subscribers);
    }

    [Fact]
    public async Task NewStream_GetsTheLatestValuesFirst_AndUnchangedValuesAreNotSentAgain()
    {
        var source = new FakeNetworkSource();
        using var feed = Feed(source);
        using var first = feed.TrySubscribe()!;
        var sink = await source.Started.WaitAsync(Wait);
        sink.Publish(NetworkEventKinds.Job, "j1", new { id = "j1", status = "Scheduled" });
        sink.Publish(NetworkEventKinds.Job, "j1", new { id = "j1", status = "Scheduled" });
        sink.Publish(NetworkEventKinds.Job, "j1", new { id = "j1", status = "Validated" });
        sink.Publish(NetworkEventKinds.Job, "j2", new { id = "j2", status = "Pending" });
        sink.Forget(NetworkEventKinds.Job, "j2");

        var seen = Drain(first);
        Assert.Equal(["cluster", "job:Scheduled", "job:Validated", "job:Pending"], seen.Select(Describe));
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Id < p.Second.Id));

        // A later stream gets one event per value as it is now, forgotten ones left out.
        using var second = feed.TrySubscribe()!;
        Assert.Equal(["cluster", "job:Validated"], Drain(second).Select(Describe));
    }

    [Fact]
    public async Task StreamFallingBehindItsBuffer_IsEnded_WhileOthersKeepReceiving()
    {
        var source = new FakeNetworkSource();
        using var feed = Feed(source, buffer: 60);
        using var slow = feed.TrySubscribe()!;
        using var fast = feed.TrySubscribe()!;
        var sink = await source.Started.WaitAsync(Wait);

        var received = 0;
        for (var i = 0; i < 200; i++)
        {
            sink.Publish(NetworkEventKinds.Job, "j", new { n = i });
            received += Drain(fast).Count;
        }

        Assert.Equal(201, received);
        Assert.Equal(1, feed.Subscribers);

        // The slow stream holds what fit, then ends: its client reconnects and starts from a snapshot.
        var held = Drain(slow);
        Assert.Equal(60, held.Count);
        Assert.True(slow.Events.Completion.IsCompleted);
    }

    private static List<NetworkEvent> Drain(NetworkSubscription subscription)
    {
        var events = new List<NetworkEvent>();
        while (subscription.Events.TryRead(out var change))
        {
            events.Add(change);
        }

        return events;
    }

    private static string Describe(NetworkEvent e) =>
        e.Kind == NetworkEventKinds.Job ? "job:" + JsonDocument.Parse(e.Json).RootElement.GetProperty("status").GetString() : e.Kind;
}
