using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Maps the compute API: modules and jobs.</summary>
public static class ComputeEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>/api/modules</c> and <c>/api/jobs</c> (submit, get, output, list, events, cancel).</summary>
    /// <param name="app">The route builder.</param>
    /// <returns>The route builder.</returns>
    public static IEndpointRouteBuilder MapComputeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapModulesEndpoints();
        app.MapJobsEndpoints();
        return app;
    }
}

/// <summary>The job endpoints.</summary>
internal static class JobsEndpoints
{
    public static void MapJobsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs", SubmitAsync).WithName("SubmitJob").WithMetadata(OwnsBodyLimit.Instance).Accepts<JsonElement>("application/json")
            .WithSummary("Submits a job for the calling account: module hash (or inline module), entry, args, env, stdin, limits, max price, validators, input and output objects. Body at most Xmbl:Compute:MaxJobRequestBytes (else 413).");
        app.MapGet("/api/jobs", ListAsync).WithName("ListJobs")
            .WithSummary("Lists jobs in submission order; filters ?status=&module=&node=&submitter=, paging ?after=<next>&limit=.");
        app.MapGet("/api/jobs/{id}", GetAsync).WithName("GetJob").Produces<JobView>(StatusCodes.Status200OK, "application/json").ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("The job: status, timestamps, executor, validators, fuel, exit code, result hash, price, reason, assignments, transitions.");
        app.MapGet("/api/jobs/{id}/output", GetOutputAsync).WithName("GetJobOutput")
            .WithSummary("The job's accepted stdout bytes; 409 until the result is agreed.");
        app.MapGet("/api/jobs/{id}/events", EventsAsync).WithName("JobEvents")
            .WithSummary("Server-sent events: the job record after every status change, until it is final.");
        app.MapPost("/api/jobs/{id}/cancel", CancelAsync).WithName("CancelJob").WithSummary("Cancels the job unless it is final; only its submitter may.");
        app.MapDelete("/api/jobs/{id}", CancelAsync).WithName("DeleteJob").WithSummary("Cancels the job unless it is final; only its submitter may.");
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, JobService jobs, IOptions<ComputeOptions> options, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var body = await RequestBodies.ReadAsync(context, limits.MaxJobRequestBytes, ComputeOptions.SectionName + ":" + nameof(ComputeOptions.MaxJobRequestBytes), cancellationToken);
        if (body.Problem is { } refused)
        {
            return refused;
        }

        // The submitter is always the caller's account; a body cannot name another.
        if (JobSubmission.Parse(body.Bytes, limits, Accounts.Of(context), out var problem) is not { } request)
        {
            return problem!;
        }

        try
        {
            var job = await jobs.SubmitAsync(request, cancellationToken);
            return Results.Created($"/api/jobs/{job.Id}", JobView.From(job));
        }
        catch (JobRequestException ex)
        {
            return Results.ValidationProblem(ex.Errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal), detail: "The job request is invalid; errors names each field.");
        }
        catch (InsufficientFundsException ex)
        {
            return Results.Problem(
                detail: ex.Message,
                statusCode: StatusCodes.Status402PaymentRequired,
                title: "Insufficient funds",
                extensions: new Dictionary<string, object?> { ["account"] = ex.Account.Account, ["balance"] = ex.Account.Balance, ["hold"] = ex.Hold });
        }
    }

    private static async Task<IResult> GetAsync(string id, JobService jobs, FinalJobViews views)
    {
        if (views.TryGet(id, out var kept))
        {
            return Results.Bytes(kept, JsonContentType);
        }

        return await jobs.GetAsync(id) is { } job ? Results.Bytes(views.Serialize(job), JsonContentType) : Problems.NotFound($"No job {id}.");
    }

    // As Results.Ok writes it.
    private const string JsonContentType = "application/json; charset=utf-8";

    private static async Task<IResult> GetOutputAsync(string id, JobService jobs)
    {
        var job = await jobs.GetAsync(id);
        if (job is null)
        {
            return Problems.NotFound($"No job {id}.");
        }

        var output = await jobs.GetOutputAsync(id);
        return output is null
            ? Results.Problem(detail: $"Job {id} has no agreed output yet (status {job.Status}).", statusCode: StatusCodes.Status409Conflict, title: "No output yet")
            : Results.Bytes(output, "application/octet-stream");
    }

    private static async Task<IResult> ListAsync(
        HttpContext context,
        JobService jobs,
        string? status,
        string? module,
        string? node,
        string? submitter,
        string? after,
        string? limit,
        CancellationToken cancellationToken)
    {
        JobStatus? parsed;
        try
        {
            parsed = JobService.ParseStatus(status);
            submitter = Accounts.Filter(submitter, "submitter");
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }

        if (!Problems.TryPageSize(context, limit, out var take, out var refused))
        {
            return refused;
        }

        var page = await jobs.ListAsync(new JobQuery(parsed, module, node, submitter, after, take), cancellationToken);
        return Results.Ok(new JobListView([.. page.Items.Select(JobView.From)], page.Next));
    }

    private static async Task<IResult> CancelAsync(string id, HttpContext context, JobService jobs, string? reason)
    {
        try
        {
            return Results.Ok(JobView.From(await jobs.CancelAsync(id, Accounts.Of(context), reason)));
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }

    private static async Task EventsAsync(string id, HttpContext context, JobService jobs, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        if (await jobs.GetAsync(id) is null)
        {
            await Problems.NotFound($"No job {id}.").ExecuteAsync(context);
            return;
        }

        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var options = json.Value.SerializerOptions;
        await foreach (var job in jobs.WatchAsync(id, cancellationToken))
        {
            var data = JsonSerializer.Serialize(JobView.From(job), options);
            await context.Response.WriteAsync($"id: {job.Transitions.Count.ToString(CultureInfo.InvariantCulture)}\nevent: {(job.IsFinal ? "final" : "status")}\ndata: {data}\n\n", cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
        }
    }
}

/// <summary>A job as the API shows it.</summary>
internal sealed record JobView(
    string Id,
    JobStatus Status,
    string Module,
    string Entry,
    IReadOnlyList<string> Args,
    int Validators,
    long FuelLimit,
    int MemoryPagesLimit,
    long WallTimeMs,
    decimal? MaxPrice,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ScheduledAt,
    DateTimeOffset? ExecutedAt,
    DateTimeOffset? ValidatedAt,
    DateTimeOffset? FinishedAt,
    string? Executor,
    IReadOnlyList<string> ValidatorNodes,
    RunOutcome? Outcome,
    int? ExitCode,
    long? Fuel,
    string? ResultHash,
    int? OutputLength,
    decimal? Price,
    string? Reason,
    IReadOnlyList<JobAssignment> Assignments,
    IReadOnlyList<JobTransition> Transitions,
    IReadOnlyList<string> InputObjects,
    string? OutputObject,
    string? StoredOutput,
    JobEscrow? Escrow,
    string? Task = null,
    IReadOnlyList<StoredTaskOutput>? TaskOutputs = null)
{
    public static JobView From(JobRecord job) => new(
        job.Id,
        job.Status,
        job.Spec.ModuleHash,
        job.Spec.Entry,
        job.Spec.Args,
        job.Spec.Validators,
        job.Spec.Limits.Fuel,
        job.Spec.Limits.MemoryPages,
        (long)job.Spec.Limits.WallTime.TotalMilliseconds,
        job.Spec.MaxPricePerMillionFuel,
        job.CreatedAt,
        job.UpdatedAt,
        job.ScheduledAt,
        job.ExecutedAt,
        job.ValidatedAt,
        job.FinishedAt,
        job.Executor,
        job.Validators,
        job.Result?.Outcome,
        job.Result?.ExitCode,
        job.Result?.Fuel,
        job.Result?.ResultHash,
        job.Result?.OutputLength,
        job.Price,
        job.FailureReason,
        job.Assignments,
        job.Transitions,
        job.Spec.InputObjects,
        job.Spec.OutputObject,
        job.OutputObject,
        job.Escrow,
        job.Spec.Task?.TaskId,
        job.TaskOutputs);
}

/// <summary>A page of jobs.</summary>
internal sealed record JobListView(IReadOnlyList<JobView> Items, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Next);
