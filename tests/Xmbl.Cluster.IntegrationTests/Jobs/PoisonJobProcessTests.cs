using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary>A job that takes its silo down (here: killed with SIGKILL while it spins) does not come back forever.</summary>
[Trait("Suite", "Functional")]
public sealed class PoisonJobProcessTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-poison");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task SpinningJob_SiloKilledTwice_FailsAsPoisonousAtTheSecondRestart()
    {
        string id;
        await using (var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2"))
        {
            var loop = await JobsApi.UploadAsync(silo, "infinite_loop.wasm");
            id = await JobsApi.SubmitAsync(silo, new JsonObject
            {
                ["module"] = loop,
                ["validators"] = 1,
                ["limits"] = new JsonObject { ["fuel"] = 1_000_000_000_000, ["wallTimeMs"] = 120_000 },
            });
            Assert.Equal("Scheduled", (await silo.GetJsonAsync($"/api/jobs/{id}")).Text("status"));
            await Task.Delay(1500);
            await silo.KillAsync();
        }

        await using (var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2"))
        {
            // Counted and written before it runs again.
            var job = await WaitForTransitionAsync(silo, id, "restart 1;");
            Assert.Equal("Scheduled", job.Text("status"));
            await Task.Delay(1500);
            await silo.KillAsync();
        }

        await using var last = await SiloProcess.StartAsync(_data.Path, "--nodes", "2");
        var failed = await JobsApi.WaitAsync(last, id, TimeSpan.FromSeconds(30));

        Assert.Equal("Failed", failed.Text("status"));
        Assert.StartsWith("poisonous: crashed or hung the node on 2 restarts", failed.Text("reason"), StringComparison.Ordinal);
        Assert.All(failed.GetProperty("assignments").EnumerateArray(), a => Assert.Equal("Cancelled", a.Text("status")));
        Assert.Equal("ok", await last.Http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
    }

    private static async Task<JsonElement> WaitForTransitionAsync(SiloProcess silo, string id, string reasonPart)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var job = await silo.GetJsonAsync($"/api/jobs/{id}");
            if (job.GetProperty("transitions").EnumerateArray().Any(t => t.Text("reason")?.Contains(reasonPart, StringComparison.Ordinal) == true))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no transition with '{reasonPart}' on job {id}: {job}");
            await Task.Delay(50);
        }
    }
}
