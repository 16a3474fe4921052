using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Ledger;

namespace Xmbl.Cluster.Grains.Interfaces.Services;

/// <summary>Where a task is.</summary>
public enum TaskStatus
{
    /// <summary>Its job runs (task_start went to the winning node).</summary>
    Started,

    /// <summary>Validated, outputs stored: waiting for the recipient's acknowledgement.</summary>
    Delivered,

    /// <summary>The recipient acknowledged the result.</summary>
    Acknowledged,

    /// <summary>Delivered the configured number of times without an acknowledgement.</summary>
    Reported,

    /// <summary>The run was refused at task_start (a capability, a tampered package) with the reason.</summary>
    Refused,

    /// <summary>The job failed, or the validated run did not produce the manifest's outputs.</summary>
    Failed,
}

/// <summary>A task request as the gateway took it (inputs still to be checked against the manifest).</summary>
/// <param name="Service">The package id.</param>
/// <param name="Version">The version.</param>
/// <param name="InputsJson">The inputs, a JSON object.</param>
/// <param name="OutputPrefix">Where the outputs go: <c>namespace/prefix/</c>.</param>
/// <param name="GlobalNamespaces">Mesh-global namespaces granted to the task's storage proxy.</param>
/// <param name="Submitter">The signing account: it pays the escrow and receives (acknowledges) the result.</param>
/// <param name="MaxPricePerMillionFuel">The highest node price accepted, or null.</param>
[GenerateSerializer, Immutable, Alias("xmbl.TaskSubmission")]
public sealed record TaskSubmission(
    [property: Id(0)] string Service,
    [property: Id(1)] string Version,
    [property: Id(2)] string InputsJson,
    [property: Id(3)] string OutputPrefix,
    [property: Id(4)] IReadOnlyList<string> GlobalNamespaces,
    [property: Id(5)] string Submitter,
    [property: Id(6)] decimal? MaxPricePerMillionFuel);

/// <summary>One node's answer to a task request.</summary>
/// <param name="NodeId">The node.</param>
/// <param name="Fitness">Its fitness (0-1, higher is better), or null when it declined.</param>
/// <param name="Reason">Why it declined, or what counted (free slots, cached package).</param>
[GenerateSerializer, Immutable, Alias("xmbl.TaskFitness")]
public sealed record TaskFitness([property: Id(0)] string NodeId, [property: Id(1)] double? Fitness, [property: Id(2)] string Reason);

/// <summary>What a node is asked in a task request.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="PackageSha256">The package (a node that has it cached is fitter: no retrieval).</param>
/// <param name="MemoryBytes">The run's memory, as the scheduler counts it.</param>
/// <param name="MaxPricePerMillionFuel">The highest price accepted, or null.</param>
[GenerateSerializer, Immutable, Alias("xmbl.TaskFitnessRequest")]
public sealed record TaskFitnessRequest([property: Id(0)] string TaskId, [property: Id(1)] string PackageSha256, [property: Id(2)] long MemoryBytes, [property: Id(3)] decimal? MaxPricePerMillionFuel);

/// <summary>A task as <c>GET /api/tasks/{id}</c> shows it.</summary>
[GenerateSerializer, Immutable, Alias("xmbl.TaskRecord")]
public sealed record TaskRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Service,
    [property: Id(2)] string Version,
    [property: Id(3)] string PackageSha256,
    [property: Id(4)] string Submitter,
    [property: Id(5)] TaskStatus Status,
    [property: Id(6)] string JobId,
    [property: Id(7)] string Node,
    [property: Id(8)] IReadOnlyList<TaskFitness> Answers,
    [property: Id(9)] DateTimeOffset RequestedAt,
    [property: Id(10)] DateTimeOffset StartedAt,
    [property: Id(11)] double StartLatencyMs,
    [property: Id(12)] string Tier,
    [property: Id(13)] string OutputPrefix,
    [property: Id(14)] string TaskNamespace,
    [property: Id(15)] string ServiceNamespace,
    [property: Id(16)] IReadOnlyList<string> GlobalNamespaces,
    [property: Id(17)] IReadOnlyList<StoredTaskOutput> Outputs,
    [property: Id(18)] int Deliveries,
    [property: Id(19)] DateTimeOffset? DeliveredAt,
    [property: Id(20)] DateTimeOffset? NextDeliveryAt,
    [property: Id(21)] DateTimeOffset? AcknowledgedAt,
    [property: Id(22)] DateTimeOffset? FinishedAt,
    [property: Id(23)] string? Reason,
    [property: Id(24)] DateTimeOffset? DataDeletedAt);

/// <summary>Why a task request was refused, field by field (400), or as a whole.</summary>
public enum TaskRefusal
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>The request breaks the manifest or the rules: <see cref="TaskSubmitResult.Errors"/> by field path.</summary>
    Invalid,

    /// <summary>No such service version.</summary>
    NotFound,

    /// <summary>The submitter's balance is below the job's hold.</summary>
    InsufficientFunds,

    /// <summary>No eligible node answered the task request in time.</summary>
    NoNode,
}

/// <summary>How a task request went.</summary>
[GenerateSerializer, Immutable, Alias("xmbl.TaskSubmitResult")]
public sealed record TaskSubmitResult(
    [property: Id(0)] TaskRefusal Refusal,
    [property: Id(1)] TaskRecord? Task,
    [property: Id(2)] IReadOnlyDictionary<string, string[]>? Errors = null,
    [property: Id(3)] string? Detail = null,
    [property: Id(4)] long Hold = 0,
    [property: Id(5)] AccountSnapshot? ShortOf = null);

/// <summary>
/// One task (keyed by its id): the task request to eligible nodes, their fitness answers, task_start (the job, with
/// the winner as executor), the delivery of the validated result to the recipient and its acknowledgement.
/// </summary>
[Alias("xmbl.ITaskGrain")]
public interface ITaskGrain : IGrainWithStringKey
{
    /// <summary>Checks the request, asks the eligible nodes, starts the task on the fittest. Idempotent once started.</summary>
    Task<TaskSubmitResult> SubmitAsync(TaskSubmission submission);

    /// <summary>The task, or null when unknown (its job's end is taken in first).</summary>
    Task<TaskRecord?> GetAsync();

    /// <summary>The recipient acknowledges the delivered result.</summary>
    /// <param name="account">The signer.</param>
    /// <returns>The task, and null or why the acknowledgement is refused (403 not the recipient, 409 nothing to acknowledge).</returns>
    Task<(TaskRecord? Task, int Status, string? Problem)> AcknowledgeAsync(string account);

    /// <summary>The task's job is final (from the job grain), or a delivery or the retention is due (from its timer).</summary>
    [OneWay]
    Task JobFinishedAsync();
}
