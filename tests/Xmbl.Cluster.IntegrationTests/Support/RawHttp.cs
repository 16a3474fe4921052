using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Support;

/// <summary>
/// HTTP/1.1 over a bare socket, for what HttpClient will not send: a declared length with no body, a body that keeps
/// coming after the server has answered, a request target exactly as written.
/// </summary>
internal static class RawHttp
{
    /// <summary>
    /// The signature header lines (each after "\r\n", to append to a request head) of a request signed by
    /// <see cref="TestAccounts.User"/> for a body that hashes to <paramref name="contentSha256"/>.
    /// </summary>
    public static string Signed(string method, string target, string contentSha256 = RequestSignature.EmptyBodySha256)
    {
        var h = new RequestSigner(TestAccounts.Key(TestAccounts.User)).Sign(method, target, contentSha256);
        return $"\r\n{RequestSignature.IdentityHeader}: {h.Identity}\r\n{RequestSignature.TimestampHeader}: {h.Timestamp}\r\n{RequestSignature.NonceHeader}: {h.Nonce}"
            + $"\r\n{RequestSignature.ContentSha256Header}: {h.ContentSha256}\r\n{RequestSignature.SignatureHeader}: {h.Signature}";
    }

    /// <summary>A URI whose path and query are sent as written (no dot-segment removal, no unescaping).</summary>
    public static Uri Exact(Uri baseAddress, string pathAndQuery) =>
        new(baseAddress.ToString().TrimEnd('/') + pathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

    /// <summary>
    /// Sends <paramref name="head"/> (request line and headers), then <paramref name="body"/> (if any) while reading the
    /// answer; returns once the whole answer is read, whatever the body writer was doing.
    /// </summary>
    public static async Task<RawResponse> SendAsync(Uri baseAddress, string head, Func<Stream, CancellationToken, Task>? body = null, TimeSpan? timeout = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{head}\r\nHost: {baseAddress.Authority}\r\n\r\n"));
        using var stop = new CancellationTokenSource();
        var writing = body is null ? Task.CompletedTask : Task.Run(() => body(stream, stop.Token));
        try
        {
            return await ReadAsync(stream).WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await writing;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The server closed the connection on the body it refused.
            }
        }
    }

    /// <summary>Writes <paramref name="total"/> bytes as HTTP/1.1 chunks of 64 KiB, then the last chunk.</summary>
    public static async Task WriteChunkedAsync(Stream stream, long total, CancellationToken ct)
    {
        var chunk = new byte[64 << 10];
        var header = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        for (long sent = 0; sent < total; sent += chunk.Length)
        {
            var size = (int)Math.Min(chunk.Length, total - sent);
            await stream.WriteAsync(size == chunk.Length ? header : Encoding.ASCII.GetBytes($"{size:x}\r\n"), ct);
            await stream.WriteAsync(chunk.AsMemory(0, size), ct);
            await stream.WriteAsync("\r\n"u8.ToArray(), ct);
        }

        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
    }

    private static async Task<RawResponse> ReadAsync(Stream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[16 << 10];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0)
            {
                throw new IOException($"The connection closed before the answer's headers: {Encoding.ASCII.GetString([.. received])}");
            }

            received.AddRange(buffer.AsSpan(0, n));
        }

        var lines = Encoding.ASCII.GetString([.. received], 0, headEnd).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var rest = received.Skip(headEnd + 4).ToList();
        async Task<bool> More()
        {
            var n = await stream.ReadAsync(buffer);
            rest.AddRange(buffer.AsSpan(0, n));
            return n > 0;
        }

        byte[] content;
        if (headers.TryGetValue("Content-Length", out var length))
        {
            var size = int.Parse(length, CultureInfo.InvariantCulture);
            while (rest.Count < size && await More())
            {
            }

            content = [.. rest.Take(size)];
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = new List<byte>();
            var position = 0;
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(rest, "\r\n"u8, position)) < 0 && await More())
                {
                }

                var size = int.Parse(Encoding.ASCII.GetString([.. rest.Skip(position).Take(lineEnd - position)]).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                position = lineEnd + 2;
                if (size == 0)
                {
                    break;
                }

                while (rest.Count < position + size + 2 && await More())
                {
                }

                decoded.AddRange(rest.Skip(position).Take(size));
                position += size + 2;
            }

            content = [.. decoded];
        }
        else
        {
            content = [];
        }

        return new RawResponse(status, headers, Encoding.UTF8.GetString(content));
    }

    private static int IndexOf(List<byte> data, ReadOnlySpan<byte> pattern, int start = 0)
    {
        for (var i = start; i + pattern.Length <= data.Count; i++)
        {
            var match = true;
            for (var j = 0; j < pattern.Length && match; j++)
            {
                match = data[i + j] == pattern[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>An answer read by <see cref="RawHttp"/>.</summary>
internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? ContentType => Headers.TryGetValue("Content-Type", out var type) ? type.Split(';')[0].Trim() : null;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
}
