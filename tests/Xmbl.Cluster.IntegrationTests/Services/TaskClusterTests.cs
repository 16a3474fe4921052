using System.Net.Http.Json;
using System.Text.Json;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Services;

/// <summary>
/// A task in a cluster of two silo processes on PostgreSQL: the package is published through one silo, the task asked
/// of the other, and the node that runs it retrieves the package from the library, whose shards lie on both silos'
/// nodes.
/// </summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class TaskClusterTests(PostgresFixture postgres) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static readonly string[] Settings =
    [
        .. ClusterArgs.FastLiveness, "--nodes", "3",
        "--Logging:LogLevel:Xmbl.Cluster.Grains.Services.ServicePackageCache", "Information",
    ];

    private readonly TempDirectory _data = new("xmbl-task-cluster");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task A_task_asked_of_one_silo_runs_a_package_published_through_another_and_its_output_is_read_through_the_first()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, "task-cluster-secret", Settings);
        var (publisher, asked) = await cluster.StartSilosAsync("publisher", "asked") is [var p, var a] ? (p, a) : throw new InvalidOperationException();
        await asked.WaitForLiveNodesAsync(6);

        var package = TestPackages.Build("task-dev", "org.example.taskacross", "service_upper.wasm", []);
        using (var published = await publisher.As("task-dev").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(package)))
        {
            Assert.True(published.IsSuccessStatusCode, $"publish answered {(int)published.StatusCode}: {await published.Content.ReadAsStringAsync()}");
        }

        await asked.FundAsync(TestAccounts.Did("across-user"));
        using var submitted = await asked.As("across-user").PostAsJsonAsync(
            new Uri("/api/tasks", UriKind.Relative),
            new { service = "org.example.taskacross", version = "1.0.0", inputs = new { text = "across" }, outputs = "results/across/" });
        var body = await submitted.Content.ReadAsStringAsync();
        Assert.True(submitted.IsSuccessStatusCode, $"task request answered {(int)submitted.StatusCode}: {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        var task = await asked.GetJsonAsync("/api/tasks/" + id);
        for (var deadline = DateTime.UtcNow + Patience; task.GetProperty("status").GetString() != "Delivered"; task = await asked.GetJsonAsync("/api/tasks/" + id))
        {
            Assert.True(task.GetProperty("status").GetString() == "Started" && DateTime.UtcNow < deadline, $"task {id} did not deliver: {task}\n{publisher.Output}\n{asked.Output}");
            await Task.Delay(100);
        }

        // Validated by a second node like any job; the output is an object, readable through the other silo too.
        var job = await publisher.GetJsonAsync("/api/jobs/" + task.GetProperty("jobId").GetString());
        Assert.Equal("Settled", job.GetProperty("status").GetString());
        Assert.Single(job.GetProperty("validatorNodes").EnumerateArray());
        var output = task.GetProperty("outputs")[0].GetProperty("object").GetString()!;
        Assert.Equal("ACROSS", await publisher.As("across-user").GetStringAsync(new Uri("/api/objects/" + output, UriKind.Relative)));
        Assert.Contains("Service org.example.taskacross@1.0.0 retrieved from the library and verified", publisher.Output + asked.Output, StringComparison.Ordinal);
    }
}
