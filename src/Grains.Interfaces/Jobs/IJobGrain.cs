namespace Xmbl.Cluster.Grains.Interfaces.Jobs;

/// <summary>One job, keyed by its id: the state machine from submission to settlement.</summary>
/// <remarks>
/// Every method is a short state transition, written to storage before it returns; nodes run the job outside the
/// grain and report back with <see cref="ReportAsync"/>. Deadlines (timeouts, retries of pending jobs) are checked by
/// <see cref="TickAsync"/>, which the silo's deadline ticker calls while the job is not final.
/// </remarks>
[Alias("xmbl.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>
    /// Holds the job's maximum price from the submitter's account, then creates the job and assigns nodes if any are
    /// eligible; a second submission of the same id returns the existing job. When the submitter's balance is short,
    /// nothing is held or created.
    /// </summary>
    /// <param name="spec">What to run.</param>
    /// <returns>The job after submission (<see cref="JobStatus.Scheduled"/>, or <see cref="JobStatus.Pending"/> when no node has room), or the refusal.</returns>
    Task<JobSubmitResult> SubmitAsync(JobSpec spec);

    /// <summary>
    /// Settles the job's escrow if the job is final and has not yet (or refunds the whole hold if no job was created);
    /// the submitter's account asks this for old holds, one-way so that it never waits on the job calling it back.
    /// </summary>
    /// <param name="submitter">The account that holds the job's escrow.</param>
    [OneWay]
    Task SettleEscrowAsync(string submitter);

    /// <summary>The job, or null when it does not exist.</summary>
    /// <returns>The record.</returns>
    [ReadOnly]
    Task<JobRecord?> GetAsync();

    /// <summary>The accepted output bytes, or null while there is none.</summary>
    /// <returns>The output.</returns>
    [ReadOnly]
    Task<byte[]?> GetOutputAsync();

    /// <summary>What the node needs to run the assignment, or null when the assignment is no longer open.</summary>
    /// <param name="assignmentId">The assignment.</param>
    /// <param name="nodeId">The node asking.</param>
    /// <returns>The work.</returns>
    [ReadOnly]
    Task<JobWork?> GetWorkAsync(int assignmentId, string nodeId);

    /// <summary>
    /// A silo that restarted after a crash found this open assignment of one of its nodes: counts the restart against the
    /// job (once per silo start) before the node runs it again, and fails the job as poisonous when it has taken its
    /// nodes down too often.
    /// </summary>
    /// <param name="assignmentId">The assignment.</param>
    /// <param name="nodeId">The node that would run it again.</param>
    /// <param name="restartId">Identifies the silo start, so several assignments of one job found by it count once.</param>
    /// <returns>The work to run again, or null when the assignment is no longer open or the job failed.</returns>
    Task<JobWork?> RecoverAsync(int assignmentId, string nodeId, string restartId);

    /// <summary>Records a node's result; decides the job when enough results agree.</summary>
    /// <param name="report">The report.</param>
    /// <returns>False when the assignment was not open (timed out, cancelled, decided, or not this node's).</returns>
    Task<bool> ReportAsync(ExecutionReport report);

    /// <summary>Records that a node could not run its assignment; the role goes to another node, or the job fails when nodes fail the same way.</summary>
    /// <param name="report">The node's error.</param>
    /// <returns>False when the assignment was not open (timed out, cancelled, decided, or not this node's).</returns>
    Task<bool> ReportErrorAsync(RunErrorReport report);

    /// <summary>Tries to assign nodes to a pending job (capacity may have freed).</summary>
    /// <returns>True when the job is no longer pending.</returns>
    Task<bool> TryScheduleAsync();

    /// <summary>Cancels the job unless it is final.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The job after the call, or null when it does not exist.</returns>
    Task<JobRecord?> CancelAsync(string reason);

    /// <summary>Applies every deadline that has passed (assignment timeouts, pending retries, settlement retries).</summary>
    /// <returns>When the job next needs a tick, or null when it is final (or does not exist).</returns>
    Task<DateTimeOffset?> TickAsync();

    /// <summary>
    /// Returns the job as soon as it has more than <paramref name="seenTransitions"/> transitions, or after
    /// <paramref name="maxWait"/> as it is then; null when the job does not exist. Watchers on any silo or client
    /// long-poll with it, so a change wakes them without polling storage.
    /// </summary>
    /// <param name="seenTransitions">How many transitions the caller has seen.</param>
    /// <param name="maxWait">The longest wait; keep it below the call timeout.</param>
    /// <returns>The record.</returns>
    [AlwaysInterleave]
    Task<JobRecord?> WaitForChangeAsync(int seenTransitions, TimeSpan maxWait);
}
