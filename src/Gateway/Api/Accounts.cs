using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Who a request acts for. Until requests are signed, the <see cref="Header"/> names the account (else
/// <see cref="ObjectService.AnonymousAccount"/>). An account is 1-128 characters of <c>A-Z a-z 0-9 . _ : -</c>, which
/// covers <c>did:key:z6Mk…</c> identities and keeps out wildcards (<c>*</c>), spaces and control characters.
/// </summary>
internal static class Accounts
{
    /// <summary>The request header naming the account.</summary>
    public const string Header = "X-Xmbl-Account";

    /// <summary>The longest account.</summary>
    public const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    /// <summary>The syntax, as error messages state it.</summary>
    public const string Syntax = "1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-' (for example did:key:z6Mk…)";

    /// <summary>Whether <paramref name="account"/> is well formed.</summary>
    public static bool IsValid([NotNullWhen(true)] string? account) =>
        account is { Length: > 0 and <= MaxLength } && !account.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>The account the request acts for (the header is checked by <see cref="UseAccountCheck"/> first).</summary>
    public static string Of(HttpContext context) =>
        context.Request.Headers.TryGetValue(Header, out var value) && value.Count == 1 && IsValid(value[0]) ? value[0]! : ObjectService.AnonymousAccount;

    /// <summary>Refuses, with 400, a request whose account header is malformed or repeated, before any endpoint runs.</summary>
    public static IApplicationBuilder UseAccountCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Headers.TryGetValue(Header, out var value) && (value.Count != 1 || !IsValid(value[0])))
        {
            var detail = value.Count != 1
                ? $"Give one {Header} header, not {value.Count}."
                : $"{Header} is not a valid account: use {Syntax}.";
            await Problems.BadRequest(detail).ExecuteAsync(context);
            return;
        }

        await next(context);
    });
}
