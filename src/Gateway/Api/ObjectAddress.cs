using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>
/// Reads <c>{namespace}/{name}</c> from the request target exactly as the client sent it. The server's own path has
/// already had <c>.</c> and <c>..</c> segments removed (<c>a/../b</c> became <c>b</c>), left <c>%2F</c> encoded and
/// turned invalid UTF-8 into text, so it cannot tell those names apart. Here each segment is percent-decoded once,
/// strictly: an encoded slash, a malformed escape or invalid UTF-8 is refused, and <see cref="ObjectKey"/> then refuses
/// empty, <c>.</c> and <c>..</c> segments and control characters. One name has one meaning.
/// </summary>
internal static class ObjectAddress
{
    private const string Prefix = "/api/objects/";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads and checks the object address of an <c>/api/objects/{ns}/{name}</c> request.</summary>
    /// <param name="context">The request.</param>
    /// <param name="key">The address.</param>
    /// <param name="error">Why it is refused.</param>
    /// <returns>Whether the address is valid.</returns>
    public static bool TryRead(HttpContext context, out ObjectKey key, [NotNullWhen(false)] out string? error)
    {
        key = default;
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            error = "The request has no target.";
            return false;
        }

        var path = PathOf(raw);
        if (!path.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || path.IndexOf('/', Prefix.Length) is var slash && slash < 0)
        {
            error = "Write the address as /api/objects/{namespace}/{name}, without '.' or '..' segments.";
            return false;
        }

        if (!TryDecode(path.AsSpan(Prefix.Length, slash - Prefix.Length), out var @namespace, out error))
        {
            return false;
        }

        var name = new StringBuilder(path.Length - slash);
        var first = true;
        foreach (var segment in path.AsSpan(slash + 1).Split('/'))
        {
            if (!TryDecode(path.AsSpan(slash + 1)[segment], out var text, out error))
            {
                return false;
            }

            if (text.Contains('/', StringComparison.Ordinal))
            {
                error = "An object name cannot contain an encoded slash (%2F): '/' separates its segments, so write it plainly.";
                return false;
            }

            if (!first)
            {
                name.Append('/');
            }

            name.Append(text);
            first = false;
        }

        return ObjectKey.TryCreate(@namespace, name.ToString(), out key, out error);
    }

    /// <summary>
    /// Refuses, with 400, any request whose target has a <c>.</c> or <c>..</c> segment (plain or percent-encoded). The
    /// server resolves them before routing, so <c>/api/objects/ns/a/..</c> would otherwise reach another route.
    /// </summary>
    public static IApplicationBuilder UseDotSegmentCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Features.Get<IHttpRequestFeature>()?.RawTarget is { } raw && HasDotSegment(PathOf(raw)))
        {
            await Problems.BadRequest("The request path has a '.' or '..' segment; write it without them (they are not resolved).").ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    private static bool HasDotSegment(string path)
    {
        foreach (var range in path.AsSpan().Split('/'))
        {
            var segment = path.AsSpan()[range];
            if (segment.Length is >= 1 and <= 6 && IsDots(segment))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDots(ReadOnlySpan<char> segment)
    {
        var dots = 0;
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] == '.')
            {
                dots++;
            }
            else if (segment[i] == '%' && i + 2 < segment.Length && segment[i + 1] == '2' && (segment[i + 2] | 0x20) == 'e')
            {
                dots++;
                i += 2;
            }
            else
            {
                return false;
            }
        }

        return dots is 1 or 2;
    }

    /// <summary>The path of an origin-form (<c>/p?q</c>) or absolute-form (<c>http://host/p?q</c>) request target.</summary>
    private static string PathOf(string target)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        if (!path.StartsWith('/') && path.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0)
        {
            var start = path.IndexOf('/', scheme + 3);
            path = start < 0 ? "/" : path[start..];
        }

        return path;
    }

    /// <summary>Percent-decodes one segment once into strict UTF-8 text.</summary>
    private static bool TryDecode(ReadOnlySpan<char> segment, out string text, [NotNullWhen(false)] out string? error)
    {
        text = "";
        var bytes = new byte[segment.Length];
        var count = 0;
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '%')
            {
                if (i + 2 >= segment.Length || !char.IsAsciiHexDigit(segment[i + 1]) || !char.IsAsciiHexDigit(segment[i + 2]))
                {
                    error = "A '%' in an address must start a percent-encoded byte (%25 for '%' itself).";
                    return false;
                }

                bytes[count++] = (byte)((HexValue(segment[i + 1]) << 4) | HexValue(segment[i + 2]));
                i += 2;
            }
            else if (c > 0x7F)
            {
                error = "An address must be percent-encoded UTF-8.";
                return false;
            }
            else
            {
                bytes[count++] = (byte)c;
            }
        }

        try
        {
            text = StrictUtf8.GetString(bytes, 0, count);
        }
        catch (DecoderFallbackException)
        {
            error = "An object address must be UTF-8; it has bytes that are not.";
            return false;
        }

        error = null;
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
