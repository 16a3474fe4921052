namespace Xmbl.Cluster.Gateway.Network;

/// <summary>Produces the feed's changes while anyone listens: <see cref="NetworkFeed"/> runs it from the first stream to the last.</summary>
public interface INetworkSource
{
    /// <summary>Publishes the current state, then every change, until <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="sink">Where changes go; an unchanged value published again is dropped there.</param>
    /// <param name="cancellationToken">Fires when the last stream closes.</param>
    /// <returns>Completes when cancelled.</returns>
    Task RunAsync(INetworkSink sink, CancellationToken cancellationToken);
}

/// <summary>Receives a source's values.</summary>
public interface INetworkSink
{
    /// <summary>Sets the value of <paramref name="kind"/> (and <paramref name="key"/>); streams get it unless it equals the last one.</summary>
    /// <param name="kind">One of <see cref="NetworkEventKinds"/>.</param>
    /// <param name="key">Within the kind, or null.</param>
    /// <param name="payload">The value.</param>
    void Publish(string kind, string? key, object payload);

    /// <summary>Drops a keyed value from the snapshot new streams get (a job that left the recent window).</summary>
    /// <param name="kind">The kind.</param>
    /// <param name="key">The key.</param>
    void Forget(string kind, string key);
}
