using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// The last exception handler: a request Kestrel refused while it was read (<see cref="BadHttpRequestException"/>: a
/// body past its limit, a broken chunked body) gets its own status as problem details (413, 400, …); anything else is a
/// 500 that says nothing of the server's internals (the trace id in the answer finds the logged exception).
/// </summary>
internal sealed partial class ErrorProblems(ILogger<ErrorProblems> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        IResult problem;
        if (exception is BadHttpRequestException bad)
        {
            problem = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? Problems.TooLarge($"The body is larger than the server accepts for {httpContext.Request.Method} {httpContext.Request.Path}.")
                : Results.Problem(detail: "The request could not be read.", statusCode: bad.StatusCode, title: "Bad request");
        }
        else
        {
            LogUnhandled(logger, httpContext.Request.Method, httpContext.Request.Path.Value ?? "", exception);
            problem = Results.Problem(detail: "The server failed to answer this request; the trace id identifies it in the server's log.", statusCode: StatusCodes.Status500InternalServerError, title: "Internal server error");
        }

        await problem.ExecuteAsync(httpContext);
        return true;
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Error, Message = "Unhandled exception answering {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}

/// <summary>Endpoint metadata: the endpoint bounds its request body itself (jobs, modules, objects).</summary>
internal sealed class OwnsBodyLimit
{
    public static readonly OwnsBodyLimit Instance = new();
}

/// <summary>
/// Applies <see cref="GatewayOptions.MaxRequestBodyBytes"/> to every endpoint without a body limit of its own. (A body of
/// a media type the endpoint does not accept never gets here: routing matches <c>Accepts</c> metadata and answers 415,
/// which the status-code pages turn into problem details.)
/// </summary>
internal static class BodyLimits
{
    public static Func<HttpContext, RequestDelegate, Task> Middleware(long limit) => (context, next) =>
    {
        // gRPC bounds its messages itself (Xmbl:Gateway:Grpc:MaxMessageBytes) and streams uploads of any size.
        if (context.GetEndpoint() is { } endpoint && endpoint.Metadata.GetMetadata<OwnsBodyLimit>() is null
            && endpoint.Metadata.GetMetadata<global::Grpc.AspNetCore.Server.GrpcMethodMetadata>() is null)
        {
            if (context.Request.ContentLength is { } declared && declared > limit)
            {
                return Problems.TooLarge($"The body has {declared} bytes; {context.Request.Method} {context.Request.Path} takes at most {limit} (Xmbl:Gateway:MaxRequestBodyBytes).")
                    .ExecuteAsync(context);
            }

            // A chunked body is cut where it passes the limit: Kestrel throws, and ErrorProblems answers 413.
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = limit;
            }
        }

        return next(context);
    };
}
