using Xmbl.Cluster.Gateway.Network;

namespace Xmbl.Cluster.Gateway.Tests;

/// <summary>A source the test drives: it publishes what the test asks and reports when the feed starts and stops it.</summary>
internal sealed class FakeNetworkSource : INetworkSource
{
    private TaskCompletionSource<INetworkSink> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Runs { get; private set; }

    /// <summary>Completes with the sink when the feed next starts the source.</summary>
    public Task<INetworkSink> Started => _started.Task;

    /// <summary>Completes when the feed next stops the source.</summary>
    public Task Stopped => _stopped.Task;

    public async Task RunAsync(INetworkSink sink, CancellationToken cancellationToken)
    {
        Runs++;
        _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        sink.Publish(NetworkEventKinds.Cluster, null, new { silos = Runs });
        _started.TrySetResult(sink);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        finally
        {
            _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _stopped.TrySetResult();
        }
    }
}
