using System.Diagnostics;
using System.Diagnostics.Metrics;
using Xmbl.Cluster.Grains.Interfaces.Jobs;

namespace Xmbl.Cluster.Telemetry;

/// <summary>
/// The cluster's own traces and metrics (docs/operations.md, "Telemetry"). Static, as the runtime's own sources are:
/// with no listener (no exporter configured) a span is not created and a measurement is one branch, so the job paths
/// pay nothing. Tags are passed as <see cref="KeyValuePair{TKey, TValue}"/> structs, never as arrays or dictionaries.
/// </summary>
public static class ClusterTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "Xmbl.Cluster";

    /// <summary>The span attribute and metric tag that names a job.</summary>
    public const string JobIdTag = "xmbl.job.id";

    /// <summary>A job's status (metrics), or a run's role (spans and metrics).</summary>
    public const string StatusTag = "xmbl.job.status";

    /// <summary>executor, validator or tiebreaker.</summary>
    public const string RoleTag = "xmbl.job.role";

    /// <summary>The node that runs.</summary>
    public const string NodeTag = "xmbl.node.id";

    /// <summary>Spans of a job's life: its submission and every run of it on a node.</summary>
    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Transitions = Meter.CreateCounter<long>("xmbl.jobs.transitions", "{job}", "Jobs entering each status (tag xmbl.job.status): the jobs-by-state flow.");

    private static readonly Counter<long> Validated = Meter.CreateCounter<long>("xmbl.jobs.validated", "{job}", "Jobs whose result was agreed.");

    private static readonly Counter<long> Disputed = Meter.CreateCounter<long>("xmbl.jobs.disputed", "{job}", "Jobs whose validators disagreed with the executor.");

    private static readonly Counter<long> FuelUsed = Meter.CreateCounter<long>("xmbl.jobs.fuel", "{fuel}", "Fuel used by the runs reported, by role.");

    private static readonly Histogram<double> Latency = Meter.CreateHistogram<double>(
        "xmbl.jobs.duration",
        "s",
        "From submission to the final status, by final status.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    private static readonly Histogram<double> RunTime = Meter.CreateHistogram<double>(
        "xmbl.jobs.run.duration",
        "s",
        "One run on a node, from admission to its report, by role.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });

    private static readonly Counter<long> Repairs = Meter.CreateCounter<long>("xmbl.storage.repair.shards", "{shard}", "Shards rebuilt by repair passes.");

    private static readonly Counter<long> RepairPasses = Meter.CreateCounter<long>("xmbl.storage.repair.passes", "{pass}", "Repair passes finished.");

    private static readonly Counter<long> StorageCharges = Meter.CreateCounter<long>("xmbl.ledger.storage.charged", "{micro-xmbl.c}", "Micro-xmbl.c charged for storage by finished charging periods (paid or owed).");

    /// <summary>A storage charging period finished, charging <paramref name="amount"/> micro-xmbl.c.</summary>
    public static void StorageCharged(long amount) => StorageCharges.Add(amount);

    /// <summary>The meter's name, for observable instruments made per host through IMeterFactory.</summary>
    public static string MeterName => Name;

    /// <summary>A job entered <paramref name="to"/>: counts it, and its latency when the status is final.</summary>
    public static void JobTransition(JobStatus to, DateTimeOffset createdAt, DateTimeOffset now)
    {
        if (Transitions.Enabled)
        {
            Transitions.Add(1, new KeyValuePair<string, object?>(StatusTag, StatusName(to)));
        }

        if (to == JobStatus.Validated)
        {
            Validated.Add(1);
        }
        else if (to == JobStatus.Disputed)
        {
            Disputed.Add(1);
        }

        if (JobRecord.IsFinalStatus(to) && Latency.Enabled)
        {
            Latency.Record((now - createdAt).TotalSeconds, new KeyValuePair<string, object?>(StatusTag, StatusName(to)));
        }
    }

    /// <summary>A run was reported by a node.</summary>
    public static void RunReported(JobRole role, long fuel, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>(RoleTag, RoleName(role));
        FuelUsed.Add(fuel, tag);
        RunTime.Record(elapsed.TotalSeconds, tag);
    }

    /// <summary>A repair pass finished, having rebuilt <paramref name="rebuilt"/> shards.</summary>
    public static void RepairPass(long rebuilt)
    {
        RepairPasses.Add(1);
        Repairs.Add(rebuilt);
    }

    /// <summary>Starts the span of a job's submission (the grain calls it makes are its children).</summary>
    public static Activity? StartSubmit(string jobId)
    {
        var activity = Source.StartActivity("xmbl.job.submit");
        activity?.SetTag(JobIdTag, jobId);
        return activity;
    }

    /// <summary>Starts the span of a run, child of the grain call that dispatched it (<paramref name="parent"/>).</summary>
    public static Activity? StartRun(string jobId, JobRole role, string nodeId, ActivityContext parent)
    {
        var activity = Source.StartActivity(role == JobRole.Executor ? "xmbl.job.execute" : "xmbl.job.validate", ActivityKind.Internal, parent);
        if (activity is not null)
        {
            activity.SetTag(JobIdTag, jobId);
            activity.SetTag(RoleTag, RoleName(role));
            activity.SetTag(NodeTag, nodeId);
        }

        return activity;
    }

    // Cached names: Enum.ToString allocates every time.
    private static readonly string[] StatusNames = [.. Enum.GetValues<JobStatus>().Select(s => s.ToString().ToLowerInvariant())];

    private static string StatusName(JobStatus status) => (uint)status < (uint)StatusNames.Length ? StatusNames[(int)status] : status.ToString();

    private static readonly string[] RoleNames = [.. Enum.GetValues<JobRole>().Select(r => r.ToString().ToLowerInvariant())];

    private static string RoleName(JobRole role) => (uint)role < (uint)RoleNames.Length ? RoleNames[(int)role] : role.ToString();
}
