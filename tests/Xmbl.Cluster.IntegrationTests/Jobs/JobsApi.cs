using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>The job and module API of a silo process, as the tests use it.</summary>
internal static class JobsApi
{
    /// <summary>A committed fixture from tests/fixtures/wasm, found by walking up from the test binaries.</summary>
    public static byte[] Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "wasm", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        throw new FileNotFoundException($"Fixture {name} not found under tests/fixtures/wasm above {AppContext.BaseDirectory}.");
    }

    public static async Task<string> UploadAsync(SiloProcess silo, string fixture)
    {
        using var content = new ByteArrayContent(Fixture(fixture));
        using var response = await silo.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"upload answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("hash").GetString()!;
    }

    public static async Task<string> SubmitAsync(SiloProcess silo, JsonObject job)
    {
        using var response = await silo.Http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), job);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"submit answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Polls the job until it is final (settled, failed or cancelled).</summary>
    public static async Task<JsonElement> WaitAsync(SiloProcess silo, string id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await silo.GetJsonAsync($"/api/jobs/{id}");
            if (job.GetProperty("status").GetString() is "Settled" or "Failed" or "Cancelled")
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {id} is still {job.GetProperty("status").GetString()}: {job}");
            await Task.Delay(50);
        }
    }

    public static async Task<string> OutputAsync(SiloProcess silo, string id) =>
        await silo.Http.GetStringAsync(new Uri($"/api/jobs/{id}/output", UriKind.Relative));

    public static string? Text(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
