using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Jobs.Storage;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Services;
using Xmbl.Cluster.Storage.Policies;
using TaskStatus = Xmbl.Cluster.Grains.Interfaces.Services.TaskStatus;

namespace Xmbl.Cluster.Grains.Services;

/// <summary>State of a <see cref="TaskGrain"/>.</summary>
internal sealed class TaskGrainState
{
    public TaskRecord? Record { get; set; }

    /// <summary>The manifest's outputs, for judging the validated files.</summary>
    public string? Manifest { get; set; }
}

/// <inheritdoc cref="ITaskGrain"/>
/// <remarks>
/// Deliveries and the task namespace's retention are facts of the stored state (<see cref="TaskRecord.NextDeliveryAt"/>,
/// the end plus <see cref="TaskOptions.DataRetention"/>): a timer acts on them on time while the grain is active, and a
/// reminder (every minute while either is open) activates it after a restart, so neither is lost.
/// </remarks>
internal sealed partial class TaskGrain(
    [PersistentState(GrainStates.Task, GrainStates.Storage)] IPersistentState<TaskGrainState> state,
    IServiceProvider services,
    IOptions<TaskOptions> taskOptions,
    IOptions<ComputeOptions> computeOptions,
    [FromKeyedServices(ClusterClock.Key)] TimeProvider time,
    ILogger<TaskGrain> logger)
    : DurableGrain<TaskGrainState>(state), ITaskGrain, IRemindable
{
    private const string ReminderName = "task";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private readonly TaskOptions _options = taskOptions.Value;
    private readonly ComputeOptions _compute = computeOptions.Value;
    private IGrainTimer? _timer;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        ArmTimer();
    }

    public async Task<TaskSubmitResult> SubmitAsync(TaskSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (State.Record is { } existing)
        {
            return new TaskSubmitResult(TaskRefusal.None, existing);
        }

        var clock = Stopwatch.GetTimestamp();
        var requestedAt = time.GetUtcNow();
        var taskId = this.GetPrimaryKeyString();
        var entry = await GrainFactory.GetGrain<IServicePackageGrain>(submission.Service + "@" + submission.Version).GetAsync();
        if (entry is null)
        {
            return new TaskSubmitResult(TaskRefusal.NotFound, null, Detail: $"{submission.Service}@{submission.Version} is not in the service library.");
        }

        var manifest = ManifestParser.Parse(Encoding.UTF8.GetBytes(entry.Manifest));
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Error(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field, []), message];

        if (manifest.Builtin || manifest.Entry is null)
        {
            Error("service", $"{entry.Key} is a builtin service; there is no module a node could run");
        }

        // Inputs are checked against the manifest before anything runs; each error names its input ($.inputs.NAME).
        using (var document = JsonDocument.Parse(submission.InputsJson))
        {
            if (!TaskInputs.TryCreate(manifest, document.RootElement, _options.MaxInputBytes, out _, out var inputErrors))
            {
                foreach (var e in inputErrors)
                {
                    Error(e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path, e.Message);
                }
            }
        }

        var objects = services.GetService<ObjectService>();
        CheckStorage(submission, objects, Error);
        var pages = manifest.ResourceRequirements.MaxMemoryMB * 16;
        if (pages > _compute.MaxMemoryPages)
        {
            Error("service", $"the manifest's maxMemoryMB ({manifest.ResourceRequirements.MaxMemoryMB}) is above what this cluster runs ({_compute.MaxMemoryPages / 16} MB)");
        }

        if (errors.Count > 0)
        {
            return new TaskSubmitResult(TaskRefusal.Invalid, null, errors);
        }

        var library = services.GetRequiredService<ServiceLibrary>();
        var trust = await library.AssessAsync(entry.Author);
        var limits = new JobLimits(_compute.DefaultFuel, pages, _compute.DefaultWallTimeLimit);
        var memory = RunMemory.Of(limits, _compute.RunMemoryOverheadBytes);

        // task_request: every eligible node computes its fitness on its own silo; the answers are gathered in parallel,
        // and whoever has not answered within FitnessTimeout is left out.
        var scheduler = services.GetRequiredService<JobScheduler>();
        var eligible = Eligible(scheduler.Nodes, manifest, memory, out var ineligible);
        var request = new TaskFitnessRequest(taskId, entry.Sha256, memory, submission.MaxPricePerMillionFuel);
        var asked = eligible.Select(n => AskAsync(n, request)).ToArray();
        try
        {
            await Task.WhenAll(asked).WaitAsync(_options.FitnessTimeout);
        }
        catch (TimeoutException)
        {
        }

        var answers = asked.Select((t, i) => t.IsCompletedSuccessfully ? t.Result : new TaskFitness(eligible[i].Node.NodeId, null, t.IsFaulted ? "did not answer: " + t.Exception!.InnerException!.Message : $"did not answer within {_options.FitnessTimeout.TotalMilliseconds:0} ms"))
            .Concat(ineligible)
            .ToList();
        var best = answers.Where(a => a.Fitness is not null).OrderByDescending(a => a.Fitness).ThenBy(a => a.NodeId, StringComparer.Ordinal).FirstOrDefault();
        if (best is null)
        {
            var why = answers.Count == 0 ? "no node is registered" : string.Join("; ", answers.Select(a => $"{a.NodeId}: {a.Reason}"));
            return new TaskSubmitResult(TaskRefusal.NoNode, null, Detail: $"No node can run {entry.Key} now: {why}");
        }

        // task_start: the task's job, its executor on the winner; validators are placed like any job's.
        var run = new TaskRun(
            taskId, entry.PackageId, entry.Version, entry.Sha256, submission.InputsJson, trust.Tier == TrustTier.Trusted, submission.OutputPrefix,
            [.. manifest.Outputs.Select(o => new TaskOutputTarget(o.Name, o.FilenameFormat, o.FileType))], submission.GlobalNamespaces, best.NodeId);
        var spec = new JobSpec(
            entry.Sha256, JobSpec.WasiStart, [], [], [], limits, submission.MaxPricePerMillionFuel, _options.Validators, [], null, submission.Submitter, Task: run);
        var jobId = JobIds.New(time.GetUtcNow());
        var submitted = await GrainFactory.GetGrain<IJobGrain>(jobId).SubmitAsync(spec);
        if (submitted.Job is null)
        {
            return new TaskSubmitResult(TaskRefusal.InsufficientFunds, null, Hold: submitted.Hold, ShortOf: submitted.ShortOf);
        }

        var startedAt = time.GetUtcNow();
        State.Manifest = entry.Manifest;
        State.Record = new TaskRecord(
            taskId, entry.PackageId, entry.Version, entry.Sha256, submission.Submitter, TaskStatus.Started, jobId, best.NodeId, answers,
            requestedAt, startedAt, Stopwatch.GetElapsedTime(clock).TotalMilliseconds, trust.Tier == TrustTier.Trusted ? "trusted" : "untrusted",
            submission.OutputPrefix, TaskNamespaces.Task(taskId), TaskNamespaces.Service(entry.PackageId), submission.GlobalNamespaces,
            [], 0, null, null, null, null, null, null);
        LogStarted(taskId, entry.Key, best.NodeId, jobId, answers.Count);

        // The job may have ended already (a refused module ends at once); it also tells the task when it does.
        await TakeJobEndAsync();
        return new TaskSubmitResult(TaskRefusal.None, State.Record);
    }

    public async Task<TaskRecord?> GetAsync()
    {
        if (State.Record is { Status: TaskStatus.Started })
        {
            await TakeJobEndAsync();
        }

        return State.Record;
    }

    public async Task<(TaskRecord? Task, int Status, string? Problem)> AcknowledgeAsync(string account)
    {
        if (State.Record is not { } record)
        {
            return (null, 404, "No such task.");
        }

        if (!string.Equals(account, record.Submitter, StringComparison.Ordinal))
        {
            return (record, 403, $"Only the task's recipient ({record.Submitter}) acknowledges its result.");
        }

        if (record.Status == TaskStatus.Started)
        {
            await TakeJobEndAsync();
            record = State.Record!;
        }

        switch (record.Status)
        {
            case TaskStatus.Acknowledged:
                return (record, 200, null);
            case TaskStatus.Delivered or TaskStatus.Reported:
                State.Record = record with { Status = TaskStatus.Acknowledged, AcknowledgedAt = time.GetUtcNow(), NextDeliveryAt = null };
                await UpdateReminderAsync();
                return (State.Record, 200, null);
            default:
                return (record, 409, $"The task is {Name(record.Status)}; there is no delivered result to acknowledge.");
        }
    }

    public Task JobFinishedAsync() => TickAsync();

    /// <summary>Due deliveries and the retention of the task namespace (from the timer and the reminder).</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await TickAsync();
    }

    private async Task TickAsync()
    {
        if (State.Record is not { } record)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (record.Status == TaskStatus.Started)
        {
            await TakeJobEndAsync();
            record = State.Record!;
        }

        if (record is { Status: TaskStatus.Delivered, NextDeliveryAt: { } due } && due <= now)
        {
            if (record.Deliveries >= _options.Deliveries)
            {
                State.Record = record with { Status = TaskStatus.Reported, NextDeliveryAt = null, Reason = $"not acknowledged after {record.Deliveries} deliveries" };
                LogReported(record.Id, record.Submitter, record.Deliveries);
            }
            else
            {
                State.Record = Deliver(record, now);
            }

            record = State.Record!;
        }

        if (record is { FinishedAt: { } end, DataDeletedAt: null } && end + _options.DataRetention <= now)
        {
            await DeleteTaskDataAsync(record.TaskNamespace);
            State.Record = State.Record! with { DataDeletedAt = now };
        }

        await UpdateReminderAsync();
        ArmTimer();
    }

    /// <summary>Takes in the job's end: stored outputs, then delivered, refused or failed.</summary>
    private async Task TakeJobEndAsync()
    {
        if (State.Record is not { Status: TaskStatus.Started } record)
        {
            return;
        }

        var job = await GrainFactory.GetGrain<IJobGrain>(record.JobId).GetAsync();
        if (job is null || !job.IsFinal)
        {
            return;
        }

        var now = time.GetUtcNow();
        record = record with { FinishedAt = now, Outputs = job.TaskOutputs ?? [] };
        if (job.Status != JobStatus.Settled || job.Result is not { } result)
        {
            record = record with { Status = TaskStatus.Failed, Reason = $"the task's job {Name(job.Status)}: {job.FailureReason}" };
        }
        else if (result.Outcome == RunOutcome.Invalid && result.Detail is { } detail && (detail.StartsWith("refused at task_start", StringComparison.Ordinal) || detail.StartsWith("retrieve_service refused", StringComparison.Ordinal)))
        {
            record = record with { Status = TaskStatus.Refused, Reason = detail };
        }
        else if (result.Outcome != RunOutcome.Exited || result.ExitCode != 0)
        {
            record = record with { Status = TaskStatus.Failed, Reason = $"the run ended {result.Outcome.ToString().ToLowerInvariant()} with exit code {result.ExitCode}{(result.Detail is null ? "" : ": " + result.Detail)}" };
        }
        else if (OutputProblems(job) is { Count: > 0 } problems)
        {
            record = record with { Status = TaskStatus.Failed, Reason = string.Join("; ", problems) };
        }
        else
        {
            record = Deliver(record, now);
        }

        State.Record = record;
        await UpdateReminderAsync();
        ArmTimer();
    }

    /// <summary>
    /// One delivery of the result to the recipient: the outputs are in its storage, the record says so (watchers and
    /// <c>GET /api/tasks/{id}</c> see it), a log event names it, and the acknowledgement is due within
    /// <see cref="TaskOptions.AckTimeout"/>, doubled at each further delivery.
    /// </summary>
    private TaskRecord Deliver(TaskRecord record, DateTimeOffset now)
    {
        var deliveries = record.Deliveries + 1;
        var wait = _options.AckTimeout * Math.Pow(2, deliveries - 1);
        LogDelivered(record.Id, record.Submitter, deliveries, record.Outputs.Count);
        return record with { Status = TaskStatus.Delivered, Deliveries = deliveries, DeliveredAt = now, NextDeliveryAt = now + wait };
    }

    private IReadOnlyList<string> OutputProblems(JobRecord job)
    {
        var manifest = ManifestParser.Parse(Encoding.UTF8.GetBytes(State.Manifest!));
        var stored = (job.TaskOutputs ?? []).Where(o => o.Output != JobObjects.TaskStorageWrite).Select(o => o.Output).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var output in manifest.Outputs.Where(o => !stored.Contains(o.Name)))
        {
            problems.Add($"output '{output.Name}' was not produced or not stored");
        }

        // The run's own judgement (types, undeclared files) travels in the accepted result's detail.
        if (job.Result?.Detail is { Length: > 0 } detail)
        {
            problems.Add(detail);
        }

        return problems;
    }

    private async Task DeleteTaskDataAsync(string @namespace)
    {
        if (services.GetService<ObjectService>() is not { } objects)
        {
            return;
        }

        while (true)
        {
            var page = await objects.ListAsync(@namespace, null, null, 100, CancellationToken.None);
            if (page.Count == 0)
            {
                return;
            }

            foreach (var stored in page)
            {
                if (ObjectKey.TryCreate(stored.Manifest.Namespace, stored.Manifest.Name, out var key, out _))
                {
                    await objects.DeleteAsync(key, CancellationToken.None);
                }
            }

            LogDataDeleted(this.GetPrimaryKeyString(), @namespace, page.Count);
        }
    }

    private static void CheckStorage(TaskSubmission submission, ObjectService? objects, Action<string, string> error)
    {
        var prefix = submission.OutputPrefix;
        var slash = prefix.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !prefix.EndsWith('/'))
        {
            error("outputs", $"'{prefix}' is not an output prefix: write namespace/ or namespace/prefix/ (outputs are named by the manifest's formats under it)");
        }
        else if (!ObjectKey.TryCreate(prefix[..slash], prefix[(slash + 1)..] + "x", out _, out var why))
        {
            error("outputs", why);
        }
        else if (objects is null)
        {
            error("outputs", "object storage is not enabled on this silo");
        }
        else if (prefix.StartsWith(TaskNamespaces.TaskPrefix, StringComparison.Ordinal) || prefix.StartsWith(TaskNamespaces.ServicePrefix, StringComparison.Ordinal))
        {
            error("outputs", "task and service namespaces belong to tasks; name a namespace the recipient reads");
        }
        else
        {
            try
            {
                objects.Authorize(prefix[..slash], prefix[(slash + 1)..] + "x", submission.Submitter, ObjectOperations.Write);
            }
            catch (ObjectPolicyException e)
            {
                error("outputs", e.Decision.Reason);
            }
        }

        for (var i = 0; i < submission.GlobalNamespaces.Count; i++)
        {
            var ns = submission.GlobalNamespaces[i];
            var field = $"storage.global[{i}]";
            if (!ObjectKey.IsValidNamespace(ns))
            {
                error(field, $"'{ns}' is not a namespace");
            }
            else if (ns.StartsWith(TaskNamespaces.TaskPrefix, StringComparison.Ordinal) || ns.StartsWith(TaskNamespaces.ServicePrefix, StringComparison.Ordinal))
            {
                error(field, "only mesh-global namespaces can be granted; a task reaches its own task and service namespaces without a grant, and no other");
            }
            else if (objects is not null)
            {
                try
                {
                    // A grant passes on what the submitter may do there, never more.
                    objects.Authorize(ns, "x", submission.Submitter, ObjectOperations.Read);
                }
                catch (ObjectPolicyException e)
                {
                    error(field, e.Decision.Reason);
                }
            }
        }
    }

    /// <summary>
    /// Nodes that may run the task: alive silo nodes taking work, running a WebAssembly engine, with the memory, GPU
    /// and device profile the manifest asks for. The rest are answered here with the reason.
    /// </summary>
    private static List<NodeStatus> Eligible(IReadOnlyList<NodeStatus> nodes, ServiceManifest manifest, long memory, out List<TaskFitness> ineligible)
    {
        ineligible = [];
        var eligible = new List<NodeStatus>();
        var needs = manifest.ResourceRequirements;
        var profile = ProfileRank(manifest.DeviceProfile);
        foreach (var status in nodes)
        {
            var node = status.Node;
            var resources = node.Resources;
            string? why = status switch
            {
                _ when node.Edge => "an edge node (tasks run on silo nodes)",
                { Alive: false } => "offline",
                _ when !node.AcceptsWork => "leaving",
                _ when node.Unhealthy is not null => "unhealthy: " + node.Unhealthy,
                _ when resources.Engine is null => "announces no WebAssembly engine",
                _ when resources.MemoryBytes < Math.Max(memory, (long)needs.MinMemoryMB << 20) => $"announces {resources.MemoryBytes >> 20} MiB of memory, the task needs {Math.Max(memory, (long)needs.MinMemoryMB << 20) >> 20} MiB",
                _ when needs.RequiresGpu && !resources.Gpu => "has no GPU, which the manifest requires",
                _ when NodeProfile(resources) < profile => $"a {ProfileName(NodeProfile(resources))} node ({resources.Cores} cores, {resources.MemoryBytes >> 30} GiB); the manifest asks for {manifest.DeviceProfile}",
                _ => null,
            };
            if (why is null)
            {
                eligible.Add(status);
            }
            else
            {
                ineligible.Add(new TaskFitness(node.NodeId, null, why));
            }
        }

        return eligible;
    }

    /// <summary>A node's device profile from what it announces: flagship ≥ 8 cores and 16 GiB, mid-range ≥ 4 cores and 4 GiB, else budget.</summary>
    internal static int NodeProfile(Interfaces.Models.NodeResources resources) =>
        resources.Cores >= 8 && resources.MemoryBytes >= 16L << 30 ? 2
        : resources.Cores >= 4 && resources.MemoryBytes >= 4L << 30 ? 1
        : 0;

    private static int ProfileRank(string profile) => profile switch
    {
        "flagship" => 2,
        "mid-range" => 1,
        _ => 0,
    };

    private static string ProfileName(int rank) => rank switch
    {
        2 => "flagship",
        1 => "mid-range",
        _ => "budget",
    };

    private async Task<TaskFitness> AskAsync(NodeStatus status, TaskFitnessRequest request) =>
        await GrainFactory.GetGrain<INodeHostGrain>(INodeHostGrain.KeyOf(status.Node.SiloId, status.Node.NodeId)).TaskFitnessAsync(request);

    private async Task UpdateReminderAsync()
    {
        var open = State.Record is { } r && (r.NextDeliveryAt is not null || (r.FinishedAt is not null && r.DataDeletedAt is null) || r.Status == TaskStatus.Started);
        if (open)
        {
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        }
        else if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>A timer for the next due delivery or retention, so they happen on time (the reminder is the backstop).</summary>
    private void ArmTimer()
    {
        _timer?.Dispose();
        _timer = null;
        if (State.Record is not { } record)
        {
            return;
        }

        DateTimeOffset? next = record.NextDeliveryAt;
        if (record is { FinishedAt: { } end, DataDeletedAt: null })
        {
            var expiry = end + _options.DataRetention;
            next = next is null || expiry < next ? expiry : next;
        }

        if (next is not { } due || due - time.GetUtcNow() > ReminderPeriod)
        {
            return;
        }

        var delay = due - time.GetUtcNow();
        var self = this.AsReference<ITaskGrain>();
        _timer = this.RegisterGrainTimer(
            _ => self.JobFinishedAsync(),
            new GrainTimerCreationOptions(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan) { Interleave = true });
    }

    private static string Name(TaskStatus status) => status.ToString().ToLowerInvariant();

    private static string Name(JobStatus status) => status.ToString().ToLowerInvariant();

    [LoggerMessage(EventId = 5220, Level = LogLevel.Information, Message = "Task {TaskId} ({Service}) started on node {Node} as job {JobId} ({Answers} fitness answers)")]
    private partial void LogStarted(string taskId, string service, string node, string jobId, int answers);

    [LoggerMessage(EventId = 5221, Level = LogLevel.Information, Message = "Task {TaskId}: result delivered to {Recipient} (delivery {Delivery}, {Outputs} object(s))")]
    private partial void LogDelivered(string taskId, string recipient, int delivery, int outputs);

    [LoggerMessage(EventId = 5222, Level = LogLevel.Warning, Message = "Task {TaskId}: {Recipient} did not acknowledge the result after {Deliveries} deliveries; reported")]
    private partial void LogReported(string taskId, string recipient, int deliveries);

    [LoggerMessage(EventId = 5223, Level = LogLevel.Information, Message = "Task {TaskId}: retention over, {Count} object(s) of {Namespace} deleted")]
    private partial void LogDataDeleted(string taskId, string @namespace, int count);
}
