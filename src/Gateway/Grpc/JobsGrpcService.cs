using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Gateway.Grpc.V1;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary><c>xmbl.v1.Jobs</c>: the job service's operations; the job service validates, as for REST.</summary>
internal sealed class JobsGrpcService(JobService jobs, Paging paging) : Jobs.JobsBase
{
    public override async Task<Job> SubmitJob(SubmitJobRequest request, ServerCallContext context)
    {
        decimal? maxPrice = null;
        if (request.HasMaxPrice)
        {
            if (!decimal.TryParse(request.MaxPrice, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price))
            {
                throw GrpcErrors.InvalidArgument("max_price", $"max_price must be a decimal number from 0 to {decimal.MaxValue} (got '{request.MaxPrice}').");
            }

            maxPrice = price;
        }

        if (request.Limits?.HasWallTimeMs == true && request.Limits.WallTimeMs is < 1 or > 365L * 24 * 3600 * 1000)
        {
            throw GrpcErrors.InvalidArgument("limits.wall_time_ms", $"limits.wall_time_ms must be a positive number of milliseconds (got {request.Limits.WallTimeMs}).");
        }

        var job = new JobRequest(
            ModuleHash: request.Module.Length == 0 ? null : request.Module,
            ModuleBytes: request.ModuleBytes.IsEmpty ? null : request.ModuleBytes.ToByteArray(),
            Entry: request.Entry.Length == 0 ? null : request.Entry,
            Args: [.. request.Args],
            Env: [.. request.Env],
            Stdin: request.Stdin.IsEmpty ? null : request.Stdin.ToByteArray(),
            Fuel: request.Limits?.HasFuel == true ? request.Limits.Fuel : null,
            MemoryPages: request.Limits?.HasMemoryPages == true ? request.Limits.MemoryPages : null,
            WallTime: request.Limits?.HasWallTimeMs == true ? TimeSpan.FromMilliseconds(request.Limits.WallTimeMs) : null,
            MaxPricePerMillionFuel: maxPrice,
            Validators: request.HasValidators ? request.Validators : null,
            InputObjects: [.. request.InputObjects],
            OutputObject: request.OutputObject.Length == 0 ? null : request.OutputObject,
            Submitter: GrpcSigning.CallerOf(context).Account);
        return GrpcViews.Job(await jobs.SubmitAsync(job, context.CancellationToken));
    }

    public override async Task<Job> GetJob(GetJobRequest request, ServerCallContext context) =>
        GrpcViews.Job(await jobs.GetAsync(request.Id) ?? throw GrpcErrors.NotFound($"No job {request.Id}."));

    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var status = JobService.ParseStatus(Empty(request.Status));
        var take = PageSize(paging, request.PageSize);
        var page = await jobs.ListAsync(
            new JobQuery(status, Empty(request.Module), Empty(request.Node), Accounts.Filter(Empty(request.Submitter), "submitter"), Empty(request.PageToken), take),
            context.CancellationToken);
        var response = new ListJobsResponse { NextPageToken = page.Next ?? "" };
        response.Items.Add(page.Items.Select(GrpcViews.Job));
        return response;
    }

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<Job> responseStream, ServerCallContext context)
    {
        if (await jobs.GetAsync(request.Id) is null)
        {
            throw GrpcErrors.NotFound($"No job {request.Id}.");
        }

        await foreach (var job in jobs.WatchAsync(request.Id, context.CancellationToken))
        {
            await responseStream.WriteAsync(GrpcViews.Job(job), context.CancellationToken);
        }
    }

    public override async Task<JobOutput> GetJobOutput(GetJobOutputRequest request, ServerCallContext context)
    {
        var job = await jobs.GetAsync(request.Id) ?? throw GrpcErrors.NotFound($"No job {request.Id}.");
        var output = await jobs.GetOutputAsync(request.Id)
            ?? throw GrpcErrors.FailedPrecondition("no-output-yet", $"Job {request.Id} has no agreed output yet (status {job.Status}).");
        return new JobOutput { Content = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(output) };
    }

    public override async Task<Job> CancelJob(CancelJobRequest request, ServerCallContext context) =>
        GrpcViews.Job(await jobs.CancelAsync(request.Id, GrpcSigning.CallerOf(context).Account, Empty(request.Reason)));

    /// <summary>A listing's page size by the gateway's paging rules; proto3 has no unset number, so 0 asks for the default.</summary>
    internal static int PageSize(Paging paging, int size) => paging.Size(size == 0 ? null : size, "page_size");

    internal static string? Empty(string text) => text.Length == 0 ? null : text;
}

/// <summary><c>xmbl.v1.Modules</c>: uploads and module records.</summary>
internal sealed class ModulesGrpcService(ModuleStore modules, IOptions<ComputeOptions> options) : Modules.ModulesBase
{
    public override async Task<V1.ModuleInfo> UploadModule(UploadModuleRequest request, ServerCallContext context)
    {
        var max = options.Value.MaxModuleBytes;
        if (request.Content.Length > max)
        {
            throw GrpcErrors.ResourceExhausted($"The module has {request.Content.Length} bytes; the limit is {max} ({ComputeOptions.SectionName}:{nameof(ComputeOptions.MaxModuleBytes)}).");
        }

        if (request.Content.IsEmpty)
        {
            throw GrpcErrors.InvalidArgument("content", "content is empty; send the .wasm bytes.");
        }

        var bytes = request.Content.Memory;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.Span));
        var known = await modules.GetInfoAsync(hash) is not null;
        try
        {
            return GrpcViews.Module(await modules.AddAsync(bytes, context.CancellationToken), created: !known);
        }
        catch (ModuleRejectedException ex)
        {
            throw GrpcErrors.InvalidArgument("content", ex.Message);
        }
    }

    public override async Task<V1.ModuleInfo> GetModule(GetModuleRequest request, ServerCallContext context)
    {
        if (!ModuleStore.IsValidHash(request.Hash))
        {
            throw GrpcErrors.InvalidArgument("hash", "A module hash is 64 lower-case hex digits (its SHA-256).");
        }

        return GrpcViews.Module(await modules.GetInfoAsync(request.Hash) ?? throw GrpcErrors.NotFound($"Module {request.Hash} was never uploaded."), created: false);
    }
}
