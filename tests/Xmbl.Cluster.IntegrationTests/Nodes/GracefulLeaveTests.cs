using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Cli;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Testing;
using Xunit.Abstractions;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Nodes;

/// <summary><c>xmbl node leave</c> on real silo processes.</summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class GracefulLeaveTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private const string Secret = "graceful-leave-test-secret-0123456789";

    private static readonly string[] Settings =
    [
        .. ClusterArgs.FastLiveness,
        // Small shards: objects of a few hundred kB span several stripes.
        "--Xmbl:Storage:ShardSize", "65536",
        "--nodes", "2",
    ];

    private readonly TempDirectory _data = new("xmbl-leave");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task GracefulLeave_HandsEveryShardOffTheLeavingSilo_WhichThenExits0_AndEveryObjectKeepsFullRedundancy()
    {
        await using var cluster = await PostgresCluster.CreateAsync(postgres, _data.Path, Secret, Settings);
        var a = await cluster.StartSiloAsync("a");
        var b = await cluster.StartSiloAsync("b");
        var c = await cluster.StartSiloAsync("c");
        var leaver = await cluster.StartSiloAsync("leaver");
        await a.WaitForLiveNodesAsync(8);
        var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var random = new Random(41);
        for (var i = 0; i < 16; i++)
        {
            var data = new byte[random.Next(1, 600_000)];
            random.NextBytes(data);
            var name = $"leave/object-{i}.bin";
            using var put = await a.Http.PutAsync(new Uri($"/api/objects/{name}", UriKind.Relative), new ByteArrayContent(data));
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
            objects[name] = data;
        }

        var leaving = (await a.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray()
            .Where(n => n.Text("siloId") == "leaver").Select(n => n.Text("id")!).ToArray();
        var shardFilesBefore = ShardFiles(Path.Combine(_data.Path, "leaver"));
        Assert.Equal(2, leaving.Length);
        Assert.True(shardFilesBefore > 0, "the leaving silo holds no shard to hand over");

        // Reads go on all through the leave; each must succeed and be byte-identical.
        using var stopReading = new CancellationTokenSource();
        var readFailures = new ConcurrentBag<string>();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            while (!stopReading.IsCancellationRequested)
            {
                foreach (var (name, bytes) in objects)
                {
                    using var response = await b.Http.GetAsync(new Uri($"/api/objects/{name}", UriKind.Relative), CancellationToken.None);
                    var read = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                    if (!response.IsSuccessStatusCode || !bytes.AsSpan().SequenceEqual(read))
                    {
                        readFailures.Add($"{name}: {(int)response.StatusCode}, {read.Length} bytes");
                    }

                    Interlocked.Increment(ref reads);
                }
            }
        });

        // Only the operator may ask; the CLI signs with the operator key of the silo it talks to (a), which routes
        // the request to the silo hosting the node.
        var leaveStarted = System.Diagnostics.Stopwatch.StartNew();
        using var notOperator = await a.Http.PostAsync(new Uri($"/api/nodes/{leaving[0]}/leave", UriKind.Relative), null);
        using var second = await leaver.Operator.PostAsync(new Uri($"/api/nodes/{leaving[1]}/leave", UriKind.Relative), null);
        var secondBody = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement;
        var cli = await CliAsync(a, "node", "leave", leaving[0], "--wait");

        await leaver.WaitForExitAsync(TimeSpan.FromSeconds(120));
        var leaveTook = leaveStarted.Elapsed;
        await stopReading.CancelAsync();
        await reader;

        Assert.Equal(HttpStatusCode.Forbidden, notOperator.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("leaving", secondBody.Text("status"));
        Assert.Equal("leaving", secondBody.GetProperty("leave").Text("phase"));
        Assert.True(cli.Exit == 0, $"xmbl node leave exited {cli.Exit}: {cli.Err}");
        Assert.Contains(" left: ", cli.Out, StringComparison.Ordinal);
        Assert.True(leaver.ExitCode == 0, $"the silo exited {leaver.ExitCode}:\n{leaver.Output}");
        Assert.Equal(0, ShardFiles(Path.Combine(_data.Path, "leaver")));
        Assert.True(readFailures.IsEmpty, string.Join("\n", readFailures.Take(10)));
        var moved = 0;
        foreach (var id in leaving)
        {
            var node = await a.GetJsonAsync($"/api/nodes/{id}");
            Assert.Equal("left", node.Text("status"));
            Assert.Equal(0, node.GetProperty("leave").GetProperty("shardsLeft").GetInt32());
            moved += node.GetProperty("leave").GetProperty("shardsMoved").GetInt32();
        }

        // A shard handed to the other leaving node before that one began to leave moves twice.
        Assert.True(moved >= shardFilesBefore, $"{moved} shards handed over, {shardFilesBefore} held");

        // With the leaver gone, every object still has all k + m shards healthy on the nodes that stayed.
        foreach (var (name, bytes) in objects)
        {
            var health = await a.GetJsonAsync($"/api/objects/{name}?health");
            Assert.True(health.GetProperty("fullyHealthy").GetBoolean(), $"{name}: {health}");
            Assert.Equal(bytes, await c.Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
        }

        output.WriteLine($"figure: graceful leave: {shardFilesBefore} shards ({objects.Values.Sum(o => (long)o.Length)} object bytes) handed off two nodes in {leaveTook.TotalSeconds:F1} s (ask to exit 0); {reads} reads during the leave, all identical; CLI said:\n{cli.Out}");
    }

    private static int ShardFiles(string siloData) =>
        Directory.EnumerateDirectories(Path.Combine(siloData, "nodes"))
            .Select(node => Path.Combine(node, "shards", "shards"))
            .Where(Directory.Exists)
            .Sum(dir => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count());

    private static async Task<(int Exit, string Out, string Err)> CliAsync(SiloProcess gateway, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var console = new CliConsole(new MemoryStream(), stdout, stderr);
        var wallet = Path.Combine(gateway.DataDirectory, "operator.key");
        var exit = await CliApplication.RunAsync(["--gateway", gateway.BaseAddress.ToString(), "--wallet", wallet, .. args], console);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), Encoding.UTF8.GetString(stderr.ToArray()));
    }
}

/// <summary>A leave that cannot complete stops with its reason, and loses nothing.</summary>
[Trait("Suite", "Functional")]
public sealed class GracefulLeaveWithoutRoomTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-leave-no-room");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task Leave_WithNoNodeToTakeItsShards_StopsNamingTheReason_AndTheObjectStaysWhole()
    {
        // Embedded: five nodes, each holding one shard of every 3 + 2 stripe; the four others cannot take a fifth
        // without one of them holding two shards of a stripe.
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--Xmbl:Node:HeartbeatPeriod", "00:00:00.250");
        var data = new byte[200_000];
        new Random(3).NextBytes(data);
        using (var put = await silo.Http.PutAsync(new Uri("/api/objects/it/kept", UriKind.Relative), new ByteArrayContent(data)))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var node = (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes")[0].Text("id")!;

        using var user = await silo.Http.PostAsync(new Uri($"/api/nodes/{node}/leave", UriKind.Relative), null);
        using var unknown = await silo.Operator.PostAsync(new Uri("/api/nodes/did:key:z6MkNoSuchNode/leave", UriKind.Relative), null);
        using var leave = await silo.Operator.PostAsync(new Uri($"/api/nodes/{node}/leave", UriKind.Relative), null);
        JsonElement state;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(200);
            state = await silo.GetJsonAsync($"/api/nodes/{node}");
        }
        while (state.GetProperty("leave").Text("phase") == "leaving" && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, leave.StatusCode);
        Assert.Equal("stopped", state.GetProperty("leave").Text("phase"));
        Assert.Contains("No other live node can take", state.GetProperty("leave").Text("reason"), StringComparison.Ordinal);
        // The node takes work again, and holds what it held.
        Assert.Equal("alive", state.Text("status"));
        Assert.True((await silo.GetJsonAsync("/api/objects/it/kept?health")).GetProperty("fullyHealthy").GetBoolean());
        Assert.Equal(data, await silo.Http.GetByteArrayAsync(new Uri("/api/objects/it/kept", UriKind.Relative)));
        Assert.False(silo.HasExited);
    }
}
