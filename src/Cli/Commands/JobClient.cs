using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Cli.Commands;

/// <summary>The gateway's job and module API as the CLI uses it (JSON kept as <see cref="JsonElement"/>).</summary>
internal sealed class JobClient(HttpClient http, Ed25519KeyPair? key = null) : IDisposable
{
    /// <summary>A client that signs with <paramref name="key"/> (and owns it) when given.</summary>
    public static JobClient Create(Uri gateway, Ed25519KeyPair? key) => new(Wallets.Client(gateway, key), key);

    /// <summary>Uploads a module; returns its hash.</summary>
    public async Task<string> UploadModuleAsync(byte[] wasm, CancellationToken ct)
    {
        using var content = new ByteArrayContent(wasm);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        using var response = await http.PostAsync(new Uri("/api/modules", UriKind.Relative), content, ct);
        var body = await ReadAsync(response, ct);
        return body.GetProperty("hash").GetString() ?? throw new JobClientException("The gateway answered without a module hash.");
    }

    /// <summary>
    /// Submits the job. When the account's balance is below the job's hold (402) and the cluster has a faucet, asks
    /// the faucet for the difference, says so through <paramref name="notice"/>, and submits once more; so a new
    /// wallet on a development cluster runs jobs at once.
    /// </summary>
    public async Task<JsonElement> SubmitAsync(JsonObject job, CancellationToken ct, Func<string, Task>? notice = null)
    {
        using var response = await http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), job, ct);
        if (response.StatusCode != HttpStatusCode.PaymentRequired || key is null)
        {
            return await ReadAsync(response, ct);
        }

        var problem = await response.Content.ReadAsStringAsync(ct);
        long missing;
        try
        {
            using var document = JsonDocument.Parse(problem);
            var root = document.RootElement;
            missing = root.GetProperty("hold").GetInt64() - root.GetProperty("balance").GetInt64();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new JobClientException(ProblemText.Describe(response.StatusCode, problem));
        }

        using var faucet = await http.PostAsJsonAsync(new Uri("/api/faucet", UriKind.Relative), new { amount = Math.Max(1, missing) }, ct);
        if (!faucet.IsSuccessStatusCode)
        {
            var why = ProblemText.Describe(faucet.StatusCode, await faucet.Content.ReadAsStringAsync(ct));
            throw new JobClientException(ProblemText.Describe(response.StatusCode, problem) + " (the faucet did not cover it: " + why + ")");
        }

        if (notice is not null)
        {
            await notice($"xmbl: the balance of {key.PublicKey.Did} was short of the job's hold; got {Ledger.Credits.Format(Math.Max(1, missing))} xmbl.c from the cluster's faucet");
        }

        using var again = await http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), job, ct);
        return await ReadAsync(again, ct);
    }

    public async Task<JsonElement> GetAsync(string id, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri($"/api/jobs/{Uri.EscapeDataString(id)}", UriKind.Relative), ct);
        return await ReadAsync(response, ct);
    }

    public async Task<JsonElement> CancelAsync(string id, CancellationToken ct)
    {
        using var response = await http.PostAsync(new Uri($"/api/jobs/{Uri.EscapeDataString(id)}/cancel", UriKind.Relative), null, ct);
        return await ReadAsync(response, ct);
    }

    public async Task<JsonElement> ListAsync(string query, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri("/api/jobs" + query, UriKind.Relative), ct);
        return await ReadAsync(response, ct);
    }

    public async Task<byte[]> GetOutputAsync(string id, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri($"/api/jobs/{Uri.EscapeDataString(id)}/output", UriKind.Relative), ct);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response, ct);
        }

        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>Follows the job's server-sent events; falls back to polling if the stream breaks. Ends with the final record.</summary>
    public async IAsyncEnumerable<JsonElement> WatchAsync(string id, [EnumeratorCancellation] CancellationToken ct)
    {
        var final = false;
        await foreach (var record in EventsAsync(id, ct))
        {
            yield return record;
            final = IsFinal(record);
        }

        var lastStatus = "";
        while (!final)
        {
            var record = await GetAsync(id, ct);
            var status = record.GetProperty("status").GetString() ?? "";
            if (!string.Equals(status, lastStatus, StringComparison.Ordinal))
            {
                lastStatus = status;
                yield return record;
            }

            final = IsFinal(record);
            if (!final)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            }
        }
    }

    public static bool IsFinal(JsonElement record) =>
        record.GetProperty("status").GetString() is "Settled" or "Failed" or "Cancelled";

    public void Dispose()
    {
        http.Dispose();
        key?.Dispose();
    }

    private async IAsyncEnumerable<JsonElement> EventsAsync(string id, [EnumeratorCancellation] CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/jobs/{Uri.EscapeDataString(id)}/events", UriKind.Relative));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException)
        {
            yield break;
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                yield break;
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
            var data = new StringBuilder();
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(ct);
                }
                catch (IOException)
                {
                    yield break;
                }

                if (line is null)
                {
                    yield break;
                }

                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Append(line.AsSpan(5).TrimStart(' '));
                }
                else if (line.Length == 0 && data.Length > 0)
                {
                    yield return JsonDocument.Parse(data.ToString()).RootElement.Clone();
                    data.Clear();
                }
            }
        }
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode)
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        throw new JobClientException(ProblemText.Describe(response.StatusCode, text));
    }

}

/// <summary>The gateway refused a request or could not be understood.</summary>
internal sealed class JobClientException(string message) : Exception(message);
