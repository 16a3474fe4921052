using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Grains.Interfaces.Services;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Services;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>The task workflow: <c>POST /api/tasks</c> (task_request, fitness, task_start), the task, its acknowledgement.</summary>
/// <remarks>Thin: the task grain holds the workflow (docs/services.md, "Tasks").</remarks>
internal static class TasksEndpoints
{
    private static readonly HashSet<string> Fields = ["service", "version", "inputs", "outputs", "storage", "maxPrice"];

    public static void MapTasksEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/tasks", SubmitAsync).WithName("SubmitTask").Accepts<JsonElement>("application/json")
            .WithSummary("Runs a published service for the signing account: {\"service\", \"version\", \"inputs\": {name: value}, \"outputs\": \"namespace/prefix/\", \"storage\": {\"global\": [namespace]}, \"maxPrice\"}. Inputs are checked against the manifest first (400 naming each input); the eligible nodes answer the task request with their fitness and the fittest gets task_start. The submitter pays the escrow like a job (402 when short). 201 with the task; 404 unknown service version; 503 when no node can run it.");
        app.MapGet("/api/tasks/{id}", GetAsync).WithName("GetTask")
            .WithSummary("The task: status (started, delivered, acknowledged, reported, refused, failed), the fitness answers, the node and job, the stored outputs, deliveries and the acknowledgement.");
        app.MapPost("/api/tasks/{id}/ack", AcknowledgeAsync).WithName("AcknowledgeTask")
            .WithSummary("The recipient (the submitter) acknowledges the delivered result; 403 for anyone else, 409 before there is a result.");
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, IGrainFactory grains, IOptions<TaskOptions> options, [FromKeyedServices(ClusterClock.Key)] TimeProvider time, CancellationToken cancellationToken)
    {
        // Base64 inputs are 4/3 of their bytes; the rest of the request is small.
        var limit = (int)Math.Min(int.MaxValue - 1, (options.Value.MaxInputBytes * 4 / 3) + (64 * 1024));
        var body = await RequestBodies.ReadAsync(context, limit, TaskOptions.SectionName + ":" + nameof(TaskOptions.MaxInputBytes), cancellationToken);
        if (body.Problem is { } refused)
        {
            return refused;
        }

        if (!TryParse(body.Bytes, Accounts.Of(context), out var submission, out var errors))
        {
            return Results.ValidationProblem(errors, detail: "The task request is invalid; errors names each field.");
        }

        var id = JobIds.New(time.GetUtcNow());
        var result = await grains.GetGrain<ITaskGrain>(id).SubmitAsync(submission);
        return result.Refusal switch
        {
            TaskRefusal.None => Results.Created($"/api/tasks/{id}", result.Task),
            TaskRefusal.Invalid => Results.ValidationProblem(
                result.Errors!.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal),
                detail: "The task request breaks the service's manifest; errors names each input (nothing ran)."),
            TaskRefusal.NotFound => Problems.NotFound(result.Detail!),
            TaskRefusal.InsufficientFunds => Results.Problem(
                detail: new InsufficientFundsException(result.ShortOf!, result.Hold).Message,
                statusCode: StatusCodes.Status402PaymentRequired,
                title: "Insufficient funds",
                extensions: new Dictionary<string, object?> { ["account"] = result.ShortOf!.Account, ["balance"] = result.ShortOf.Balance, ["hold"] = result.Hold }),
            _ => Problems.Unavailable(result.Detail!),
        };
    }

    private static async Task<IResult> GetAsync(string id, IGrainFactory grains) =>
        JobIds.IsValid(id) && await grains.GetGrain<ITaskGrain>(id).GetAsync() is { } task ? Results.Ok(task) : Problems.NotFound($"No task {id}.");

    private static async Task<IResult> AcknowledgeAsync(string id, HttpContext context, IGrainFactory grains)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.NotFound($"No task {id}.");
        }

        var (task, status, problem) = await grains.GetGrain<ITaskGrain>(id).AcknowledgeAsync(Accounts.Of(context));
        return status switch
        {
            200 => Results.Ok(task),
            403 => Problems.Forbidden(problem!),
            404 => Problems.NotFound(problem!),
            _ => Results.Problem(detail: problem, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
        };
    }

    /// <summary>Reads the request; every problem is named by its field.</summary>
    internal static bool TryParse(ReadOnlyMemory<byte> body, string submitter, out TaskSubmission submission, out Dictionary<string, string[]> errors)
    {
        submission = null!;
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var problems = errors;
        void Error(string field, string message) => problems[field] = [.. problems.GetValueOrDefault(field, []), message];

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            Error("$", "is not JSON: " + e.Message);
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Error("$", "must be an object: {\"service\", \"version\", \"inputs\", \"outputs\"}");
                return false;
            }

            foreach (var property in root.EnumerateObject().Where(p => !Fields.Contains(p.Name)))
            {
                Error(property.Name, $"is not a field of a task request (fields: {string.Join(", ", Fields)})");
            }

            var service = Text(root, "service", Error);
            var version = Text(root, "version", Error);
            var outputs = Text(root, "outputs", Error);
            var inputs = "{}";
            if (root.TryGetProperty("inputs", out var inputsElement))
            {
                if (inputsElement.ValueKind != JsonValueKind.Object)
                {
                    Error("inputs", "must be an object of input name to value");
                }
                else
                {
                    inputs = inputsElement.GetRawText();
                }
            }

            var global = new List<string>();
            if (root.TryGetProperty("storage", out var storage))
            {
                if (storage.ValueKind != JsonValueKind.Object || storage.EnumerateObject().Any(p => p.Name != "global"))
                {
                    Error("storage", "must be {\"global\": [namespace, …]}: the mesh-global namespaces the task may reach");
                }
                else if (storage.TryGetProperty("global", out var list))
                {
                    if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() > 16 || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                    {
                        Error("storage.global", "must be an array of at most 16 namespace names");
                    }
                    else
                    {
                        global.AddRange(list.EnumerateArray().Select(e => e.GetString()!).Distinct(StringComparer.Ordinal));
                    }
                }
            }

            decimal? maxPrice = null;
            if (root.TryGetProperty("maxPrice", out var price))
            {
                if (price.ValueKind != JsonValueKind.Number || !price.TryGetDecimal(out var value) || value < 0)
                {
                    Error("maxPrice", "must be a number of xmbl.c per million fuel, at least 0");
                }
                else
                {
                    maxPrice = value;
                }
            }

            if (errors.Count > 0)
            {
                return false;
            }

            submission = new TaskSubmission(service!, version!, inputs, outputs!, global, submitter, maxPrice);
            return true;
        }
    }

    private static string? Text(JsonElement root, string name, Action<string, string> error)
    {
        if (!root.TryGetProperty(name, out var element))
        {
            error(name, "is required");
            return null;
        }

        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 and <= 256 } text)
        {
            error(name, "must be a string of 1-256 characters");
            return null;
        }

        return text;
    }
}
