using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Grains;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Who a request acts for: the signer (see <see cref="RequestSigning"/>), the operator for a trusted loopback request,
/// else anonymous (reads only). Accounts named in queries (<c>?account=</c>, <c>?submitter=</c>) are 1-128 characters of
/// <c>A-Z a-z 0-9 . _ : -</c>, which covers <c>did:key:z6Mk…</c> identities and keeps out wildcards, spaces and
/// control characters.
/// </summary>
internal static class Accounts
{
    /// <summary>The longest account.</summary>
    public const int MaxLength = 128;

    /// <summary>The syntax, as error messages state it.</summary>
    public const string Syntax = "1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-' (for example did:key:z6Mk…)";

    private static readonly SearchValues<char> Allowed = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    /// <summary>Whether <paramref name="account"/> is well formed.</summary>
    public static bool IsValid([NotNullWhen(true)] string? account) =>
        account is { Length: > 0 and <= MaxLength } && !account.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>An account named as a filter (REST and gRPC listings): null is no filter.</summary>
    /// <exception cref="RequestRefusedException">Not well formed (naming <paramref name="field"/>).</exception>
    public static string? Filter(string? account, string field) =>
        account is null ? null
        : IsValid(account) ? account
        : throw RequestRefusedException.Invalid(field, $"{field} is not a valid account: use {Syntax}.");

    /// <summary>The request's caller.</summary>
    public static Caller CallerOf(HttpContext context) => context.Features.Get<Caller>() ?? RequestSigning.Anonymous;

    /// <summary>The account the request acts for.</summary>
    public static string Of(HttpContext context) => CallerOf(context).Account;

    /// <summary>Null when the caller is the operator; else a 403 naming the action.</summary>
    public static IResult? OperatorOnly(HttpContext context, string action)
    {
        try
        {
            context.RequestServices.GetRequiredService<NodeControl>().RequireOperator(CallerOf(context), action);
            return null;
        }
        catch (RequestRefusedException refusal)
        {
            return Problems.Refused(refusal);
        }
    }
}
