using Xmbl.Cluster.Grains.Interfaces.Models;

namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>
/// The mailbox of one logical node on the silo that hosts it: assignments and cancellations for the node reach its
/// executor as calls to this grain. Keyed <c>{siloName}/{nodeId}</c> (<see cref="KeyOf"/>); its placement puts it on
/// the silo of that name, so a node's work never runs anywhere else.
/// </summary>
[Alias("xmbl.INodeHostGrain")]
public interface INodeHostGrain : IGrainWithStringKey
{
    /// <summary>The grain key of <paramref name="nodeId"/> hosted by the silo named <paramref name="siloName"/>.</summary>
    /// <param name="siloName">The hosting silo's name (its Orleans silo name, the nodes' <c>SiloId</c>).</param>
    /// <param name="nodeId">The node.</param>
    /// <returns>The key.</returns>
    static string KeyOf(string siloName, string nodeId) => siloName + "/" + nodeId;

    /// <summary>Hands an assignment to the node's executor.</summary>
    /// <param name="dispatch">The assignment.</param>
    [OneWay]
    Task AssignAsync(JobDispatch dispatch);

    /// <summary>Stops or restarts the node as an operator asks (as a crash would: no heartbeats, shards offline).</summary>
    /// <param name="online">True to start it, false to stop it.</param>
    /// <returns>False when the silo does not host the node (it moved when its silo restarted under another name).</returns>
    Task<bool> SetOnlineAsync(bool online);

    /// <summary>Puts resources its operator changed in effect on the node's executor (the registry already has them).</summary>
    /// <param name="resources">The node's resources now.</param>
    /// <returns>False when the silo does not host the node.</returns>
    Task<bool> ApplyResourcesAsync(NodeResources resources);

    /// <summary>Starts (or reports) the node's graceful leave on its silo; see <see cref="INodeGrain.BeginLeaveAsync"/>.</summary>
    /// <returns>The leave, or null when the silo does not host the node.</returns>
    Task<Models.NodeLeave?> LeaveAsync();

    /// <summary>A task request: the node computes its fitness for the task from its own load and cache.</summary>
    /// <param name="request">What the task needs.</param>
    /// <returns>Its answer.</returns>
    Task<Services.TaskFitness> TaskFitnessAsync(Services.TaskFitnessRequest request);

    /// <summary>Stops the node's runs of a cancelled job.</summary>
    /// <param name="jobId">The job.</param>
    [OneWay]
    Task CancelAsync(string jobId);
}
