using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Storage.Policies;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>Problem-details (RFC 9457) answers for the API's error cases.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) => Make(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static IResult Forbidden(string detail) => Make(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static IResult NotFound(string detail) => Make(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult TooLarge(string detail) => new ClosingConnection(Make(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail));

    /// <summary>
    /// <paramref name="answer"/> with <c>Connection: close</c>: for a refusal sent before the request's body was read,
    /// which the server will not drain. Said in the answer, the client opens a new connection for its next request
    /// instead of sending it on one the server is closing.
    /// </summary>
    public static IResult ClosingConnection(IResult answer) => new ClosingConnection(answer);

    public static IResult RangeNotSatisfiable(string detail) => Make(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable", detail);

    public static IResult TooManyRequests(string detail) => Make(StatusCodes.Status429TooManyRequests, "Too many requests", detail);

    public static IResult Unavailable(string detail) => Make(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail);

    /// <summary>A storage policy refusal: 413 when too large, 403 otherwise.</summary>
    public static IResult Refused(PolicyDecision decision) =>
        decision.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(decision.Reason) : Forbidden(decision.Reason);

    /// <summary>An application service's refusal (<see cref="RequestRefusedException"/>) as its status: 400, 403, 404, 409 or 503.</summary>
    public static IResult Refused(RequestRefusedException refusal) => refusal.Kind switch
    {
        RefusalKind.Forbidden => Forbidden(refusal.Message),
        RefusalKind.NotFound => NotFound(refusal.Message),
        RefusalKind.Conflict => Make(StatusCodes.Status409Conflict, "Conflict", refusal.Message),
        RefusalKind.Unavailable => Unavailable(refusal.Message),
        _ => BadRequest(refusal.Message),
    };

    /// <summary>Reads a listing's <c>?limit=</c> with the gateway's page sizes (<see cref="Paging"/>).</summary>
    public static bool TryPageSize(HttpContext context, string? text, out int size, [NotNullWhen(false)] out IResult? problem) =>
        TryPageSize(text, context.RequestServices.GetRequiredService<Paging>().Size, out size, out problem);

    /// <summary>Reads a listing's <c>?limit=</c> with its own bounds.</summary>
    public static bool TryPageSize(string? text, int @default, int max, out int size, [NotNullWhen(false)] out IResult? problem) =>
        TryPageSize(text, (requested, field) => Paging.Size(requested, field, @default, max), out size, out problem);

    // Bound as text, so that a non-number gets the same answer as a number out of range (0 is one), not an empty 400.
    private static bool TryPageSize(string? text, Func<int?, string, int> rule, out int size, [NotNullWhen(false)] out IResult? problem)
    {
        int? requested = text is null ? null : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        try
        {
            size = rule(requested, "limit");
            problem = null;
            return true;
        }
        catch (RequestRefusedException refusal)
        {
            size = 0;
            problem = Refused(refusal);
            return false;
        }
    }

    private static IResult Make(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}

/// <summary>See <see cref="Problems.ClosingConnection"/>.</summary>
internal sealed class ClosingConnection(IResult answer) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.Headers.Connection = "close";
        return answer.ExecuteAsync(httpContext);
    }
}
