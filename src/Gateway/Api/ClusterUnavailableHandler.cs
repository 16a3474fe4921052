using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Answers 503 with <c>Retry-After</c> when a grain call was lost with the silo it went to (killed, or declared dead
/// while the call was in flight): the grain activates on a live silo at the next call, so a retry succeeds; a 500
/// would blame the server for good. The same when the cluster's database is away for a moment (restarted, failing
/// over): the grain's state write failed, nothing was accepted, and a retry succeeds once it is back.
/// </summary>
internal sealed class ClusterUnavailableHandler : IExceptionHandler
{
    public const string RetryAfterSeconds = "1";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var detail = exception is OrleansMessageRejectionException
            ? "A silo of the cluster became unavailable during the request; retry it."
            : IsDatabaseUnavailable(exception)
                ? "The cluster's database could not be reached; nothing was changed. Retry the request."
                : null;
        if (detail is null || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        await Problems.Unavailable(detail).ExecuteAsync(httpContext);
        return true;
    }

    // A database error anywhere in the chain (storage providers wrap what the driver throws).
    private static bool IsDatabaseUnavailable(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 8; depth++, exception = exception.InnerException)
        {
            // Any database error: one that crossed silos arrives without the fields that tell a transient one apart.
            if (exception is System.Data.Common.DbException or System.Net.Sockets.SocketException)
            {
                return true;
            }

            if (exception is AggregateException aggregate && aggregate.InnerExceptions.Any(IsDatabaseUnavailable))
            {
                return true;
            }
        }

        return false;
    }
}
