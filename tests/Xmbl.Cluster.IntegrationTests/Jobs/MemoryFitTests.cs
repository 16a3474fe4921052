using System.Net;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>A job whose memory no node could ever admit is refused at submission, not left pending until it times out.</summary>
[Trait("Suite", "Functional")]
public sealed class MemoryFitTests
{
    [Fact]
    public async Task JobLargerThanEveryNodesMemory_Answers400NamingTheMemory_WhileOneThatFitsIsAccepted()
    {
        using var data = new TempDirectory("xmbl-memfit");
        // 256 MiB for the silo's two nodes: 128 MiB each, so a 256 MiB run (4,096 pages) fits nowhere.
        await using var silo = await SiloProcess.StartAsync(data.Path, "--nodes", "2", "--memory", "256MiB");
        var hello = await JobsApi.UploadAsync(silo, "hello.wasm");

        // The scheduler learns the nodes within a refresh or two of the start; until then nothing is refused.
        JsonElement? problem = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (problem is null && DateTime.UtcNow < deadline)
        {
            using var response = await PostAsync(silo, $$"""{"module":"{{hello}}","limits":{"memoryPages":4096},"validators":0}""");
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                problem = await SubmissionValidationTests.ProblemAsync(response, HttpStatusCode.BadRequest);
            }
            else
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                await Task.Delay(250);
            }
        }

        Assert.NotNull(problem);
        var errors = problem.Value.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
        var message = Assert.Single(Assert.Contains("limits.memoryPages", errors));
        Assert.Contains("the run needs 272 MiB", message, StringComparison.Ordinal);
        Assert.Contains("the largest node announces 128 MiB", message, StringComparison.Ordinal);

        using var fits = await PostAsync(silo, $$"""{"module":"{{hello}}","limits":{"memoryPages":256},"validators":1}""");
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        var job = await JobsApi.WaitAsync(silo, JsonDocument.Parse(await fits.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!);
        Assert.Equal("Settled", job.Text("status"));
    }

    private static async Task<HttpResponseMessage> PostAsync(SiloProcess silo, string json) =>
        await silo.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
}
