using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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

    public static IResult TooManyRequests(string detail) => Make(StatusCodes.Status429TooManyRequests, "Too many requests", detail);

    public static IResult Unavailable(string detail) => Make(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail);

    /// <summary>A storage policy refusal: 413 when too large, 403 otherwise.</summary>
    public static IResult Refused(PolicyDecision decision) =>
        decision.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge(decision.Reason) : Forbidden(decision.Reason);

    /// <summary>Reads a listing's <c>?limit=</c> with the gateway's page sizes (<see cref="GatewayOptions.DefaultPageSize"/>, <see cref="GatewayOptions.MaxPageSize"/>).</summary>
    public static bool TryPageSize(HttpContext context, string? text, out int size, [NotNullWhen(false)] out IResult? problem)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return TryPageSize(text, options.DefaultPageSize, options.MaxPageSize, out size, out problem);
    }

    /// <summary>Reads a listing's <c>?limit=</c> (bound as text, so that a non-number gets this answer too, not an empty 400).</summary>
    public static bool TryPageSize(string? text, int @default, int max, out int size, [NotNullWhen(false)] out IResult? problem)
    {
        size = @default;
        problem = null;
        if (text is null)
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size) && size >= 1 && size <= max)
        {
            return true;
        }

        problem = BadRequest($"limit must be a whole number from 1 to {max}.");
        return false;
    }

    private static IResult Make(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}
