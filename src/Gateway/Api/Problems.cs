using Microsoft.AspNetCore.Http;
using Xmbl.Cluster.Storage.Policies;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>Problem-details (RFC 9457) answers for the API's error cases.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) => Make(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static IResult Forbidden(string detail) => Make(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static IResult NotFound(string detail) => Make(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult TooLarge(string detail) => Make(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    public static IResult RangeNotSatisfiable(string detail) => Make(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable", detail);

    public static IResult Unavailable(string detail) => Make(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail);

    /// <summary>A storage policy refusal: 413 when too large, 403 otherwise.</summary>
    public static IResult Refused(PolicyDecision decision) =>
        decision.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(decision.Reason) : Forbidden(decision.Reason);

    private static IResult Make(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}
