using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Gateway.Grpc.V1;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary>The application layer's records as v1 messages (what REST's views show, field for field).</summary>
internal static class GrpcViews
{
    public static Timestamp? Time(DateTimeOffset? at) => at is { } t ? Timestamp.FromDateTimeOffset(t) : null;

    public static string Text(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    public static V1.JobStatus Status(Grains.Interfaces.Jobs.JobStatus status) => (V1.JobStatus)((int)status + 1);

    public static Job Job(JobRecord job)
    {
        var view = new Job
        {
            Id = job.Id,
            Status = Status(job.Status),
            Module = job.Spec.ModuleHash,
            Entry = job.Spec.Entry,
            Validators = job.Spec.Validators,
            FuelLimit = job.Spec.Limits.Fuel,
            MemoryPagesLimit = job.Spec.Limits.MemoryPages,
            WallTimeMs = (long)job.Spec.Limits.WallTime.TotalMilliseconds,
            MaxPrice = Text(job.Spec.MaxPricePerMillionFuel),
            CreatedAt = Time(job.CreatedAt),
            UpdatedAt = Time(job.UpdatedAt),
            ScheduledAt = Time(job.ScheduledAt),
            ExecutedAt = Time(job.ExecutedAt),
            ValidatedAt = Time(job.ValidatedAt),
            FinishedAt = Time(job.FinishedAt),
            Executor = job.Executor ?? "",
            Outcome = job.Result?.Outcome.ToString() ?? "",
            ResultHash = job.Result?.ResultHash ?? "",
            Price = Text(job.Price),
            Reason = job.FailureReason ?? "",
            OutputObject = job.Spec.OutputObject ?? "",
            StoredOutput = job.OutputObject ?? "",
            Final = job.IsFinal,
        };
        if (job.Result is { } result)
        {
            view.ExitCode = result.ExitCode;
            view.Fuel = result.Fuel;
            view.OutputLength = result.OutputLength;
        }

        view.Args.Add(job.Spec.Args);
        view.ValidatorNodes.Add(job.Validators);
        view.InputObjects.Add(job.Spec.InputObjects);
        foreach (var t in job.Transitions)
        {
            view.Transitions.Add(new V1.JobTransition { At = Time(t.At), From = Status(t.From), To = Status(t.To), NodeId = t.NodeId ?? "", Reason = t.Reason });
        }

        return view;
    }

    public static ObjectInfo Object(StoredObject version)
    {
        var m = version.Manifest;
        return new ObjectInfo
        {
            Namespace = m.Namespace,
            Name = m.Name,
            Size = m.Size,
            ContentType = m.ContentType,
            Sha256 = m.Sha256,
            VersionId = version.VersionId,
            Owner = version.Owner,
            DataShards = m.DataShards,
            ParityShards = m.ParityShards,
            Stripes = m.Stripes.Count,
            Created = Time(m.CreatedUtc),
        };
    }

    public static V1.ModuleInfo Module(Grains.Interfaces.Jobs.ModuleInfo info, bool created)
    {
        var view = new V1.ModuleInfo { Hash = info.Hash, Size = info.Size, IsWasiCommand = info.IsWasiCommand, Created = created };
        view.Exports.Add(info.Exports);
        view.Imports.Add(info.Imports);
        return view;
    }
}
