using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Xmbl.Cluster.Gateway.Api;

/// <summary>Reads whole request bodies under a limit of their own (not Kestrel's generic 30 MB cap).</summary>
internal static class RequestBodies
{
    /// <summary>
    /// Reads the body, at most <paramref name="limit"/> bytes. A declared <c>Content-Length</c> over the limit is refused at
    /// once, before any of the body is read; a chunked body is refused when it passes the limit. Both give 413.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="limit">The most bytes allowed.</param>
    /// <param name="setting">The configuration key of the limit, named in the answer.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes, or a problem answer.</returns>
    public static async Task<BodyRead> ReadAsync(HttpContext context, int limit, string setting, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        if (request.ContentLength is { } declared && declared > limit)
        {
            return new(default, TooLarge($"The body has {declared} bytes; the limit is {limit} ({setting})."));
        }

        try
        {
            if (request.ContentLength is { } length)
            {
                var bytes = new byte[length];
                await request.Body.ReadExactlyAsync(bytes, cancellationToken);
                return new(bytes, null);
            }

            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(64 << 10);
            try
            {
                int read;
                while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
                {
                    if (buffer.Length + read > limit)
                    {
                        return new(default, TooLarge(Over(limit, setting)));
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return new(new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length), null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(default, TooLarge(Over(limit, setting)));
        }
        catch (Exception ex) when (ex is BadHttpRequestException or EndOfStreamException && !cancellationToken.IsCancellationRequested)
        {
            return new(default, Problems.BadRequest($"The body could not be read: {ex.Message}"));
        }
    }

    private static string Over(int limit, string setting) => $"The body is larger than the {limit} bytes allowed ({setting}).";

    private static IResult TooLarge(string detail) => Problems.TooLarge(detail);
}

/// <summary>A body read by <see cref="RequestBodies.ReadAsync"/>: the bytes, or the answer that refuses it.</summary>
/// <param name="Bytes">The body.</param>
/// <param name="Problem">Null when the body was read.</param>
internal readonly record struct BodyRead(ReadOnlyMemory<byte> Bytes, IResult? Problem);
