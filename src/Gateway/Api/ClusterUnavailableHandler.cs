using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Answers 503 with <c>Retry-After</c> when a grain call was lost with the silo it went to (killed, or declared dead
/// while the call was in flight): the grain activates on a live silo at the next call, so a retry succeeds; a 500
/// would blame the server for good.
/// </summary>
internal sealed class ClusterUnavailableHandler : IExceptionHandler
{
    public const string RetryAfterSeconds = "1";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not OrleansMessageRejectionException || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        await Problems.Unavailable("A silo of the cluster became unavailable during the request; retry it.").ExecuteAsync(httpContext);
        return true;
    }
}
