namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// The standalone gateway's side of one edge node it serves: assignments and cancellations for the node arrive here
/// as calls on an observer the gateway made (<c>IGrainFactory.CreateObjectReference</c>), since a gateway is an
/// Orleans client that hosts no grains. Its methods only queue, so a call returns at once.
/// </summary>
[Alias("xmbl.IEdgeNodeObserver")]
public interface IEdgeNodeObserver : IGrainObserver
{
    /// <summary>Queues an assignment for the node.</summary>
    /// <param name="dispatch">The assignment.</param>
    Task AssignAsync(JobDispatch dispatch);

    /// <summary>Tells the node to stop its runs of a cancelled job.</summary>
    /// <param name="jobId">The job.</param>
    Task CancelAsync(string jobId);
}

/// <summary>
/// The relay of one edge node served by a standalone gateway, keyed by the node's id: it holds the gateway's
/// <see cref="IEdgeNodeObserver"/> for the node and forwards the node's assignments and cancellations to it. The
/// node's registration is marked <c>Relayed</c>, so dispatchers send its work here instead of to a silo's
/// <see cref="INodeHostGrain"/>. An observer is held for the node's death timeout and renewed at each heartbeat
/// (a reference is lost when the relay deactivates or its silo fails); a call to it that fails retires the node.
/// </summary>
[Alias("xmbl.IEdgeRelayGrain")]
public interface IEdgeRelayGrain : IGrainWithStringKey
{
    /// <summary>Holds <paramref name="observer"/> as the node's gateway, or renews it (it replaces any other).</summary>
    /// <param name="observer">The gateway's observer for the node.</param>
    Task AttachAsync(IEdgeNodeObserver observer);

    /// <summary>Drops <paramref name="observer"/> when it is the one held (the node's stream ended).</summary>
    /// <param name="observer">The gateway's observer for the node.</param>
    Task DetachAsync(IEdgeNodeObserver observer);

    /// <summary>Forwards an assignment to the node's gateway; not delivered (logged) when none is held.</summary>
    /// <param name="dispatch">The assignment.</param>
    [OneWay]
    Task AssignAsync(JobDispatch dispatch);

    /// <summary>Forwards a cancellation to the node's gateway.</summary>
    /// <param name="jobId">The job.</param>
    [OneWay]
    Task CancelAsync(string jobId);
}
