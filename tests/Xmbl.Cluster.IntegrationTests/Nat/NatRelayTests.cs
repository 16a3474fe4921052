using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Transport;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;
using Xunit.Abstractions;

namespace Xmbl.Cluster.IntegrationTests.Nat;

/// <summary>
/// A home silo behind NAT: every inbound port of its process (HTTP, Orleans silo and gateway ports, gRPC) refuses new
/// connections from anywhere but itself, by an nftables rule the test makes and removes. It joins with
/// <c>Xmbl:Storage:Relay:Via</c> naming a reachable silo, and serves shards and jobs through the tunnels it keeps there.
/// </summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class NatRelayTests(PostgresFixture postgres, ITestOutputHelper output) : IDisposable
{
    private const string Secret = "nat-relay-test-secret-0123456789";
    private static readonly IPAddress Home = IPAddress.Parse("127.0.0.2");

    private static readonly string[] Settings =
    [
        .. ClusterArgs.FastLiveness,
        .. ClusterArgs.Secret(Secret),
        "--Xmbl:Storage:ShardSize", "262144",
        "--nodes", "1",
    ];

    private readonly TempDirectory _data = new("xmbl-nat");

    public void Dispose() => _data.Dispose();

    [SkippableFact]
    public async Task SiloWithEveryInboundPortClosed_ServesShardsThroughARelay_ObjectsReadBackRepairReachesItAndItsJobsValidate()
    {
        var unavailable = InboundFirewall.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        var database = await postgres.CreateDatabaseAsync();
        var silos = new List<SiloProcess>();
        SiloProcess? home = null;
        InboundFirewall? firewall = null;
        try
        {
            foreach (var id in new[] { "a", "b", "c", "d" })
            {
                silos.Add(await SiloProcess.StartAsync(Path.Combine(_data.Path, id), [.. Settings, "--postgres", database, "--silo-id", id]));
            }

            var (a, b, c, d) = (silos[0], silos[1], silos[2], silos[3]);

            // The home silo: its ports closed before it starts, so no member ever dialled it.
            var (http, siloPort, gatewayPort, grpc) = (TcpPorts.Free(), TcpPorts.Free(), TcpPorts.Free(), TcpPorts.Free());
            firewall = InboundFirewall.Close(Home, http, siloPort, gatewayPort, grpc);
            var homeUrl = new Uri($"http://{Home}:{http}");
            home = SiloProcess.Launch(
                SiloProcess.ProgramDll("Silo", "Xmbl.Cluster.Silo.dll"),
                homeUrl,
                Path.Combine(_data.Path, "home"),
                [
                    "--urls", homeUrl.ToString().TrimEnd('/'), "--data", Path.Combine(_data.Path, "home"),
                    "--silo-port", Port(siloPort), "--gateway-port", Port(gatewayPort), "--grpc-urls", $"http://{Home}:{grpc}",
                    "--advertise", Home.ToString(), .. Settings, "--postgres", database, "--silo-id", "home",
                    "--Xmbl:Storage:Relay:Via", a.BaseAddress.ToString(),
                ],
                environment: null);

            // Nobody outside reaches it: the test itself is refused on every port.
            foreach (var port in new[] { http, siloPort, gatewayPort, grpc })
            {
                using var probe = new TcpClient();
                var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(Home, port));
                Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            }

            // It joins (Orleans over the connections it dials) and its node announces the relay's path.
            var homeNode = await WaitAsync(a, "the home silo's node alive in the cluster", cluster =>
                cluster.GetProperty("silos").EnumerateArray().Any(s => s.Text("id") == "home" && s.Text("status") == "Active")
                    ? cluster.GetProperty("nodes").EnumerateArray().FirstOrDefault(n => n.Text("siloId") == "home" && n.Text("status") == "alive")
                    : default,
                home);
            var nodeId = homeNode.Text("id")!;
            var relayed = new Uri(a.BaseAddress, "internal/relay/home/");
            Assert.Equal(relayed.ToString(), homeNode.Text("address"));

            // Objects written through b: with five nodes and a 3 + 2 code every stripe puts a shard on each node.
            var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var random = new Random(16);
            for (var i = 0; i < 6; i++)
            {
                var data = new byte[random.Next(300_000, 1_500_000)];
                random.NextBytes(data);
                var name = $"home/object-{i}.bin";
                using var put = await b.Http.PutAsync(new Uri($"/api/objects/{name}", UriKind.Relative), new ByteArrayContent(data));
                Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
                objects[name] = data;
            }

            await MeasureRelayAsync(b, nodeId, relayed, await NodeIdAsync(a, "b"));

            // Two reachable silos gone: each stripe has three shards left, one of them on the home node, so every read
            // needs the relay.
            await c.KillAsync();
            await d.KillAsync();
            foreach (var (name, bytes) in objects)
            {
                Assert.Equal(bytes, await b.Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
            }

            await WaitAsync(a, "c and d declared dead", cluster =>
                new[] { "c", "d" }.All(id => cluster.GetProperty("nodes").EnumerateArray().Single(n => n.Text("siloId") == id).Text("status") == "dead")
                    ? cluster : default,
                home);

            // Repair rebuilds the lost shards on a, b and the home node (writes through the relay).
            using var operatorClient = a.SigningClient(a.OperatorKey);
            operatorClient.Timeout = TimeSpan.FromMinutes(5);
            using var repair = await operatorClient.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);
            var pass = JsonDocument.Parse(await repair.Content.ReadAsStringAsync()).RootElement;
            Assert.True(repair.StatusCode == HttpStatusCode.OK, pass.ToString());
            Assert.Equal(0, pass.GetProperty("unrecoverable").GetInt32());
            Assert.True(pass.GetProperty("repairedShards").GetInt32() > 0, pass.ToString());
            foreach (var (name, bytes) in objects)
            {
                var health = await a.GetJsonAsync($"/api/objects/{name}?health");
                Assert.True(health.GetProperty("fullyHealthy").GetBoolean(), $"{name}: {health}");
                Assert.Equal(bytes, await a.Http.GetByteArrayAsync(new Uri($"/api/objects/{name}", UriKind.Relative)));
            }

            // Jobs: three live nodes and two validators, so the home node runs or validates every job.
            var hash = await JobsApi.UploadAsync(a, "hello.wasm");
            var ids = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                ids.Add(await JobsApi.SubmitAsync(i % 2 == 0 ? a : b, new JsonObject { ["module"] = hash, ["validators"] = 2 }));
            }

            var outputs = new HashSet<string>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                var job = await JobsApi.WaitAsync(a, id, TimeSpan.FromSeconds(120));
                Assert.True(job.Text("status") == "Settled", job.ToString());
                var ran = job.GetProperty("validatorNodes").EnumerateArray().Select(v => v.GetString()).Append(job.Text("executor"));
                Assert.Contains(nodeId, ran);
                outputs.Add(await JobsApi.OutputAsync(a, id));
            }

            Assert.Single(outputs);

            // A member that joins later cannot dial the home silo; it joins all the same, and both stay members.
            silos.Add(await SiloProcess.StartAsync(Path.Combine(_data.Path, "e"), [.. Settings, "--postgres", database, "--silo-id", "e"]));
            await WaitAsync(a, "e Active beside the home silo", cluster =>
                new[] { "e", "home" }.All(id => cluster.GetProperty("silos").EnumerateArray().Any(s => s.Text("id") == id && s.Text("status") == "Active"))
                    ? cluster : default,
                home);
            await Task.Delay(TimeSpan.FromSeconds(5));
            var after = await silos[^1].GetJsonAsync("/api/cluster");
            Assert.Contains(after.GetProperty("silos").EnumerateArray(), s => s.Text("id") == "home" && s.Text("status") == "Active");
            Assert.False(home.HasExited, home.Output);
        }
        finally
        {
            if (home is not null)
            {
                await home.DisposeAsync();
            }

            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            firewall?.Dispose();
        }
    }

    // The relay's cost, measured through the real shard client, direct (to b) and relayed (to the home node through a)
    // in alternating rounds after a warm-up, so the machine's load falls on both alike: small requests (latency) and a
    // 16 MiB shard (throughput); medians.
    private async Task MeasureRelayAsync(SiloProcess b, string homeNode, Uri relayed, string bNode)
    {
        var resolver = new StaticShardNodeResolver([new(homeNode, relayed.ToString()), new(bNode, b.BaseAddress.ToString())]);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var client = new HttpShardClient(http, resolver, new ShardRequestAuthenticator(new ShardTransportOptions { ClusterSecret = Secret }));
        var body = RandomNumberGenerator.GetBytes(16 << 20);
        var sha = Convert.ToHexStringLower(SHA256.HashData(body));
        var paths = new[] { ("direct", bNode), ("relayed", homeNode) };
        var figures = paths.ToDictionary(p => p.Item1, _ => (Latency: new List<double>(), Put: new List<double>(), Get: new List<double>()));
        for (var round = 0; round < 5; round++)
        {
            foreach (var (label, node) in paths)
            {
                var measured = figures[label];
                for (var i = 0; i < 20; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await client.GetStatsAsync(node);
                    if (round > 0)
                    {
                        measured.Latency.Add(watch.Elapsed.TotalMilliseconds);
                    }
                }

                var shard = ShardId.New();
                var put = Stopwatch.StartNew();
                await client.PutAsync(node, shard, new MemoryStream(body), body.Length, sha);
                var putSeconds = put.Elapsed.TotalSeconds;
                var get = Stopwatch.StartNew();
                await using (var read = await client.OpenReadAsync(node, shard, sha))
                {
                    using var copy = new MemoryStream(body.Length);
                    await read.CopyToAsync(copy);
                    Assert.True(copy.GetBuffer().AsSpan(0, (int)copy.Length).SequenceEqual(body), $"{label}: the shard read back differs");
                }

                var getSeconds = get.Elapsed.TotalSeconds;
                Assert.True(await client.DeleteAsync(node, shard));
                if (round > 0)
                {
                    measured.Put.Add(16 / putSeconds);
                    measured.Get.Add(16 / getSeconds);
                }
            }
        }

        foreach (var (label, (latency, puts, gets)) in figures)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"figure: shard transport {label}: small request median {Median(latency):F2} ms; 16 MiB shard put {Median(puts):F0} MiB/s, get {Median(gets):F0} MiB/s (medians of {latency.Count} requests and {puts.Count} shards)"));
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static async Task<string> NodeIdAsync(SiloProcess silo, string siloId) =>
        (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray().Single(n => n.Text("siloId") == siloId).Text("id")!;

    private static async Task<JsonElement> WaitAsync(SiloProcess silo, string what, Func<JsonElement, JsonElement> found, SiloProcess home)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            Assert.False(home.HasExited, $"the home silo exited while waiting for {what}: {home.Output}");
            var result = found(await silo.GetJsonAsync("/api/cluster"));
            if (result.ValueKind != JsonValueKind.Undefined)
            {
                return result;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not within 120 s: {what}. Home silo output: {home.Output}");
            await Task.Delay(250);
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
