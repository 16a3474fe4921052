using Grpc.Core;
using Grpc.Core.Interceptors;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary>
/// The status codes of refused calls (docs/api.md, "gRPC": the table of REST answers and gRPC codes). Trailers add
/// <c>xmbl-field</c> (the request field at fault) and <c>xmbl-reason</c> (a stable code: the REST <c>reason</c>).
/// </summary>
internal static class GrpcErrors
{
    public const string FieldTrailer = "xmbl-field";
    public const string ReasonTrailer = "xmbl-reason";
    public const string RetryAfterTrailer = "xmbl-retry-after";

    public static RpcException NotFound(string detail) => new(new Status(StatusCode.NotFound, detail));

    public static RpcException InvalidArgument(string field, string detail) =>
        new(new Status(StatusCode.InvalidArgument, detail), field.Length == 0 ? [] : new Metadata { { FieldTrailer, field } });

    public static RpcException PermissionDenied(string detail) => new(new Status(StatusCode.PermissionDenied, detail));

    public static RpcException Unauthenticated(string reason, string detail) =>
        new(new Status(StatusCode.Unauthenticated, detail), new Metadata { { ReasonTrailer, reason } });

    public static RpcException ResourceExhausted(string detail) => new(new Status(StatusCode.ResourceExhausted, detail));

    public static RpcException FailedPrecondition(string reason, string detail) =>
        new(new Status(StatusCode.FailedPrecondition, detail), new Metadata { { ReasonTrailer, reason } });

    public static RpcException Unavailable(string detail) => new(new Status(StatusCode.Unavailable, detail));

    /// <summary>A storage policy refusal: RESOURCE_EXHAUSTED when too large (REST 413), PERMISSION_DENIED otherwise (403).</summary>
    public static RpcException Refused(PolicyDecision decision) =>
        decision.Outcome == PolicyOutcome.TooLarge ? ResourceExhausted(decision.Reason) : PermissionDenied(decision.Reason);

    /// <summary>
    /// The application layer's exceptions as statuses; null for anything else (the framework answers INTERNAL). Refusals
    /// for lack of funds (REST 402: a job whose escrow the balance cannot hold) map to FAILED_PRECONDITION with
    /// <c>xmbl-reason: insufficient-funds</c>, as <c>Ledger/Transfer</c> does.
    /// </summary>
    public static RpcException? Map(Exception exception) => exception switch
    {
        RpcException => null,
        RequestRefusedException e => e.Kind switch
        {
            RefusalKind.Forbidden => PermissionDenied(e.Message),
            RefusalKind.NotFound => NotFound(e.Message),
            RefusalKind.Conflict => FailedPrecondition("conflict", e.Message),
            RefusalKind.Unavailable => Unavailable(e.Message),
            _ => InvalidArgument(ProtoName(e.Field ?? ""), e.Message),
        },
        JobRequestException e when e.Errors.Count > 0 => InvalidArgument(
            e.Errors.Keys.First(),
            "The job request is invalid: " + string.Join("; ", e.Errors.SelectMany(x => x.Value.Select(m => x.Key.Length == 0 ? m : $"{x.Key}: {m}")))),
        InsufficientFundsException e => FailedPrecondition("insufficient-funds", e.Message),
        Grains.Ledger.StorageOwedException e => FailedPrecondition("insufficient-funds", e.Message),
        ObjectPolicyException e => Refused(e.Decision),
        ObjectTooLargeException e => ResourceExhausted($"The object is larger than the {e.MaxSize} bytes allowed."),
        InsufficientShardNodesException e => Unavailable(e.Message),
        ShardNodeUnavailableException e => Unavailable($"The upload could not be stored; nothing was committed: {e.Message}"),
        OrleansMessageRejectionException => Unavailable("A silo of the cluster became unavailable during the call; retry it."),
        _ => null,
    };

    /// <summary>A field as the application layer names it (REST's camelCase, <c>limits.memoryPages</c>) as the .proto does (<c>limits.memory_pages</c>).</summary>
    public static string ProtoName(string field)
    {
        var name = new System.Text.StringBuilder(field.Length + 4);
        foreach (var c in field)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                name.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                name.Append(c);
            }
        }

        return name.ToString();
    }
}

/// <summary>Turns the application layer's exceptions into statuses for every call (one place, not one per method).</summary>
internal sealed class GrpcErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested && GrpcErrors.Map(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested && GrpcErrors.Map(ex) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested && GrpcErrors.Map(ex) is { } mapped)
        {
            throw mapped;
        }
    }
}
