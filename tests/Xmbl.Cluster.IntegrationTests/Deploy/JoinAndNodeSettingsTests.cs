using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>
/// A home operator's silo: it joins a running cluster with the connection settings alone and announces what its options
/// say; its operator changes resources and prices on the running node (<c>xmbl node set</c>), which the cluster shows
/// and the scheduler uses at once, and which outlive a restart.
/// </summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class JoinAndNodeSettingsTests(PostgresFixture postgres) : IDisposable
{
    private const string Secret = "join-and-settings-test-secret-0123456789";
    private const string ClusterId = "home";

    private readonly TempDirectory _data = new("xmbl-join");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task NewSilo_JoinsARunningClusterWithOnlyTheConnectionSettings_AndAnnouncesItsResourcesAndPrices()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var first = await StartAsync("first", database);

        // Nothing about the other members: the database, the secret and the cluster id, then what this machine offers.
        await using var joiner = await SiloProcess.StartAsync(
            Dir("joiner"),
            "--postgres", database, "--cluster-secret", Secret, "--cluster-id", ClusterId,
            "--cpu", "3", "--memory", "2GiB", "--storage", "1GiB", "--price", "0.05", "--storage-price", "0.004", "--operator", "home-bob");

        var cluster = await first.GetJsonAsync("/api/cluster");
        var joined = cluster.GetProperty("nodes").EnumerateArray().Single(n => n.Text("operator") == "home-bob");
        Assert.Equal(2, cluster.GetProperty("silos").EnumerateArray().Count(s => s.Text("status") == "Active"));
        Assert.Equal("alive", joined.Text("status"));
        Assert.Equal(joiner.BaseAddress.ToString().TrimEnd('/'), joined.Text("address"));
        Assert.Equal(3, joined.GetProperty("cores").GetInt32());
        Assert.Equal(3, joined.GetProperty("concurrency").GetInt32());
        Assert.Equal(2L << 30, joined.GetProperty("memoryBytes").GetInt64());
        Assert.Equal(1L << 30, joined.GetProperty("storageBytes").GetInt64());
        Assert.Equal(0.05m, joined.GetProperty("pricePerMillionFuel").GetDecimal());
        Assert.Equal(0.004m, joined.GetProperty("pricePerGbMonth").GetDecimal());

        // It takes part at once: a job validated by a second node needs both silos' nodes. The job names the joiner's
        // price: left open, it would be the highest price in the first silo's scheduler view, which is re-read every
        // second and may not hold the joiner yet (then the joiner is too dear and the validator waits forever).
        var hash = await JobsApi.UploadAsync(joiner, "hello.wasm");
        var job = await JobsApi.WaitAsync(first, await JobsApi.SubmitAsync(first, new JsonObject { ["module"] = hash, ["validators"] = 1, ["maxPrice"] = 0.05m }));
        Assert.Equal("Settled", job.Text("status"));
        var ran = job.GetProperty("validatorNodes").EnumerateArray().Select(v => v.GetString()).Append(job.Text("executor"));
        Assert.Contains(joined.Text("id"), ran);
    }

    [Fact]
    public async Task NodeSet_ChangesAsRunningNodesResourcesAndPrice_SeenByTheClusterUsedByTheSchedulerAndKeptAcrossARestart()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartAsync("a", database);
        await using var b = await StartAsync("b", database);
        var c = await StartAsync("c", database);
        try
        {
            var nodes = await NodesAsync(a);
            var (nodeA, nodeB, nodeC) = (nodes["a"].Text("id")!, nodes["b"].Text("id")!, nodes["c"].Text("id")!);

            // A's operator, signing with a's operator key, through a: 2 cores (so 2 jobs at once), 3 GiB, a price above the job's limit.
            var (exit, stdout, stderr) = await CliAsync(a, "node", "set", nodeA, "--cores", "2", "--memory", "3GiB", "--price", "0.5");
            Assert.True(exit == 0, stderr);
            Assert.StartsWith($"{nodeA}: 2 cores, {3L << 30} bytes of memory, 2 job(s) at once, 0.5 xmbl.c per million fuel", stdout, StringComparison.Ordinal);

            var changed = (await NodesAsync(c))["a"];
            Assert.Equal(2, changed.GetProperty("cores").GetInt32());
            Assert.Equal(2, changed.GetProperty("concurrency").GetInt32());
            Assert.Equal(3L << 30, changed.GetProperty("memoryBytes").GetInt64());
            Assert.Equal(0.5m, changed.GetProperty("pricePerMillionFuel").GetDecimal());
            Assert.Equal(0.002m, changed.GetProperty("pricePerGbMonth").GetDecimal());

            // A job that pays at most 0.1 now runs on b and c only.
            var hash = await JobsApi.UploadAsync(a, "hello.wasm");
            Assert.Equal(new[] { nodeB, nodeC }.Order(StringComparer.Ordinal), await NodesOfJobOnceSeenAsync(c, hash, nodeB, nodeC));

            // Back to cheap on a, expensive on c (its own operator, through c): now a and b.
            Assert.Equal(0, (await CliAsync(a, "node", "set", nodeA, "--price", "0.01")).Exit);
            Assert.Equal(0, (await CliAsync(c, "node", "set", nodeC, "--price", "0.5")).Exit);
            Assert.Equal(new[] { nodeA, nodeB }.Order(StringComparer.Ordinal), await NodesOfJobOnceSeenAsync(b, hash, nodeA, nodeB));

            // Settings outlive a restart: c comes back announcing its options, and the registry keeps its operator's price.
            await c.StopAsync();
            await c.DisposeAsync();
            c = await StartAsync("c", database);
            var restarted = (await NodesAsync(a))["c"];
            Assert.Equal(nodeC, restarted.Text("id"));
            Assert.Equal("alive", restarted.Text("status"));
            Assert.Equal(0.5m, restarted.GetProperty("pricePerMillionFuel").GetDecimal());
        }
        finally
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task NodeSet_ThroughAStandaloneGateway_ReachesTheNodesSilo_WhoseExecutorFollows()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var silo = await SiloProcess.StartAsync(
            Dir("hosting"),
            "--postgres", database, "--cluster-secret", Secret, "--cluster-id", ClusterId, "--silo-id", "hosting", "--cpu", "4",
            "--Logging:LogLevel:Xmbl.Cluster.Grains.Jobs.Execution.JobExecutorHost", "Information");
        var operatorDid = silo.OperatorKey.PublicKey.Did;
        await using var gateway = await GatewayProcess.StartAsync(Dir("gateway"), "--postgres", database, "--cluster-secret", Secret, "--cluster-id", ClusterId, "--operator-did", operatorDid);
        var id = (await NodesAsync(gateway))["hosting"].Text("id")!;

        using var client = gateway.SigningClient(silo.OperatorKey);
        using var response = await PatchAsync(client, new Uri("/api/nodes/" + Uri.EscapeDataString(id), UriKind.Relative), """{"cores": 3, "pricePerGbMonth": 0.003}""");
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var set = JsonDocument.Parse(body).RootElement;
        Assert.True(set.GetProperty("applied").GetBoolean());
        Assert.Equal(3, set.GetProperty("concurrency").GetInt32());
        var node = (await NodesAsync(silo))["hosting"];
        Assert.Equal(3, node.GetProperty("cores").GetInt32());
        Assert.Equal(0.003m, node.GetProperty("pricePerGbMonth").GetDecimal());

        // Event 2100, logged by the node's executor on its silo.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!silo.Output.Contains($"Node {id} now runs 3 job(s) at once", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Contains($"Node {id} now runs 3 job(s) at once", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeSet_ByAnotherAccountOrWithBadValues_IsRefusedWithAProblemNamingTheField_AndChangesNothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var silo = await StartAsync("only", database);
        var node = (await NodesAsync(silo))["only"];
        var id = node.Text("id")!;
        var target = new Uri("/api/nodes/" + Uri.EscapeDataString(id), UriKind.Relative);

        // Signed, but not by the operator: 403, problem+json, naming the operator.
        using (var forbidden = await PatchAsync(silo.Http, target, """{"cores": 2}"""))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
            Assert.Contains(silo.OperatorKey.PublicKey.Did, await forbidden.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var (exit, _, stderr) = await CliAsync(silo, "node", "set", id, "--cores", "2", wallet: Path.Combine(_data.Path, "someone-else.key"));
        Assert.Equal(1, exit);
        Assert.Contains("403 Only this silo's operator", stderr, StringComparison.Ordinal);

        foreach (var (body, field) in new[]
        {
            ("""{"cores": 0}""", "cores must be"),
            ("""{"cores": 2.5}""", "cores must be"),
            ("""{"concurrency": 100000}""", "concurrency must be"),
            ("""{"memory": "lots"}""", "memory must be"),
            ("""{"memory": 1024}""", "memory must be"),
            ("""{"pricePerMillionFuel": -1}""", "pricePerMillionFuel must be"),
            ("""{"pricePerGbMonth": 0.0000001}""", "pricePerGbMonth must be"),
            ("""{"pricePerMillionFuel": "cheap"}""", "pricePerMillionFuel must be"),
            ("""{"colour": "blue"}""", "Unknown field 'colour'"),
            ("""{}""", "Nothing to change"),
            ("""[1]""", "Send a JSON object"),
            ("""{"cores": """, "not valid JSON"),
        })
        {
            using var refused = await PatchAsync(silo.Operator, target, body);
            var text = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)refused.StatusCode} {text}");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains(field, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var unknown = await PatchAsync(silo.Operator, new Uri("/api/nodes/did:key:z6MkNoSuchNode", UriKind.Relative), """{"cores": 2}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var after = (await NodesAsync(silo))["only"];
        foreach (var field in new[] { "cores", "concurrency", "memoryBytes", "pricePerMillionFuel", "pricePerGbMonth" })
        {
            Assert.Equal(node.GetProperty(field).GetRawText(), after.GetProperty(field).GetRawText());
        }
    }

    private string Dir(string name) => Path.Combine(_data.Path, name);

    private Task<SiloProcess> StartAsync(string name, string database) =>
        SiloProcess.StartAsync(Dir(name), ["--postgres", database, "--cluster-secret", Secret, "--cluster-id", ClusterId, "--silo-id", name, "--cpu", "4"]);

    /// <summary>The nodes of <see cref="ClusterArgs"/> silos by silo id.</summary>
    private static async Task<Dictionary<string, JsonElement>> NodesAsync(SiloProcess silo) =>
        (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray()
            .Where(n => n.Text("status") == "alive")
            .ToDictionary(n => n.Text("siloId")!, StringComparer.Ordinal);

    /// <summary>Runs a job that pays at most 0.1 per million fuel, validated once; returns its executor and validator, sorted.</summary>
    /// <summary>
    /// The nodes of a job submitted through <paramref name="silo"/> once they are the expected ones, or of the last try
    /// after 20 s: the silo's scheduler re-reads node prices every second, so a job submitted just after a price change
    /// may still be placed by the old ones (a fixed wait was a race on a loaded machine).
    /// </summary>
    private static async Task<string[]> NodesOfJobOnceSeenAsync(SiloProcess silo, string hash, params string[] expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var nodes = await NodesOfJobAsync(silo, hash);
            if (nodes.SequenceEqual(expected.Order(StringComparer.Ordinal)) || DateTime.UtcNow > deadline)
            {
                return nodes;
            }

            await Task.Delay(500);
        }
    }

    private static async Task<string[]> NodesOfJobAsync(SiloProcess silo, string hash)
    {
        var job = await JobsApi.WaitAsync(silo, await JobsApi.SubmitAsync(silo, new JsonObject { ["module"] = hash, ["validators"] = 1, ["maxPrice"] = 0.1 }));
        Assert.True(job.Text("status") == "Settled", job.ToString());
        return [.. new[] { job.Text("executor")! }.Concat(job.GetProperty("validatorNodes").EnumerateArray().Select(v => v.GetString()!)).Order(StringComparer.Ordinal)];
    }

    private static async Task<HttpResponseMessage> PatchAsync(HttpClient client, Uri target, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, target) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return await client.SendAsync(request);
    }

    /// <summary>Runs <c>xmbl</c> in process against <paramref name="silo"/>, signing with its operator key unless told otherwise.</summary>
    private static async Task<(int Exit, string Out, string Err)> CliAsync(SiloProcess silo, params string[] args) =>
        await CliAsync(silo, args, wallet: null);

    private static async Task<(int Exit, string Out, string Err)> CliAsync(SiloProcess silo, string a0, string a1, string a2, string a3, string a4, string wallet) =>
        await CliAsync(silo, [a0, a1, a2, a3, a4], wallet);

    private static async Task<(int Exit, string Out, string Err)> CliAsync(SiloProcess silo, string[] args, string? wallet)
    {
        _ = silo.OperatorKey; // created at the silo's first start; loaded here so the file exists for the CLI
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var key = wallet ?? Path.Combine(silo.DataDirectory, "operator.key");
        var exit = await CliApplication.RunAsync(["--gateway", silo.BaseAddress.ToString(), "--wallet", key, .. args], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}
