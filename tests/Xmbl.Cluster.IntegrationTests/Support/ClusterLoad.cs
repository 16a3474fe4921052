using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Support;

/// <summary>
/// Load for the fault tests: loops that submit jobs and store objects through one silo or gateway until stopped,
/// recording what was accepted (a 2xx answer: durable), what was refused, and, for processes expected to stay up,
/// every answer that is neither success nor 503.
/// </summary>
internal static class ClusterLoad
{
    public static async Task SubmitJobsAsync(SiloProcess silo, int index, string module, ConcurrentDictionary<string, string> accepted, ConcurrentBag<string> refused, ConcurrentQueue<TimeSpan>? successes, ConcurrentBag<string>? errors, Stopwatch clock, CancellationToken stop)
    {
        // Each job holds its maximum price from the submitter (escrow): credits first, once per silo's test account.
        await silo.FundAsync();
        while (!stop.IsCancellationRequested)
        {
            var job = new JsonObject
            {
                ["module"] = module,
                ["validators"] = 1,
                ["stdin"] = $"silo {index}",
                ["limits"] = new JsonObject { ["wallTimeMs"] = 3000 },
            };
            try
            {
                using var response = await silo.Http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), job, CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    accepted[JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!] = silo.BaseAddress.ToString();
                    successes?.Enqueue(clock.Elapsed);
                }
                else
                {
                    refused.Add($"POST /api/jobs {(int)response.StatusCode}: {body[..Math.Min(body.Length, 200)]}");
                    if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
                    {
                        errors?.Add($"POST /api/jobs {(int)response.StatusCode}: {body}");
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                refused.Add($"POST /api/jobs: {ex.GetType().Name}");
                errors?.Add($"POST /api/jobs: {ex}");
                if (silo.HasExited)
                {
                    return;
                }
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    public static async Task PutObjectsAsync(SiloProcess silo, int index, ConcurrentDictionary<string, byte[]> committed, ConcurrentBag<string> refused, ConcurrentQueue<TimeSpan>? successes, ConcurrentBag<string>? errors, Stopwatch clock, CancellationToken stop)
    {
        var random = new Random(index);
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var data = new byte[random.Next(1, 300_000)];
            random.NextBytes(data);
            var name = $"crash/s{index}-{i}.bin";
            try
            {
                using var response = await silo.Http.PutAsync(new Uri($"/api/objects/{name}", UriKind.Relative), new ByteArrayContent(data), CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    committed[name] = data;
                    successes?.Enqueue(clock.Elapsed);
                }
                else
                {
                    var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                    refused.Add($"PUT /api/objects {(int)response.StatusCode}: {body[..Math.Min(body.Length, 200)]}");
                    if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
                    {
                        errors?.Add($"PUT /api/objects {(int)response.StatusCode}: {body}");
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                refused.Add($"PUT /api/objects: {ex.GetType().Name}");
                errors?.Add($"PUT /api/objects: {ex}");
                if (silo.HasExited)
                {
                    return;
                }
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }
}
