using System.Text;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>
/// The gateway's libp2p bridge, driven by a real js-libp2p peer: jobs over <c>/xmbl/job/1.0.0</c>, objects over
/// <c>/xmbl/object/1.0.0</c>, the peer as an edge node over <c>/xmbl/node/1.0.0</c>; and hostile peers on those
/// protocols, each of which loses only its own connection while a JS peer keeps being served.
/// </summary>
[Trait("Suite", "Interop")]
[Collection(nameof(BridgeCollection))]
public sealed class BridgeTests(BridgeSiloFixture fixture)
{
    private static readonly byte[] EchoModule = Fixture("echo.wasm");

    [InteropFact]
    public async Task JsPeer_SubmitsJobOverXmblJob_ItIsValidated_AndFetchesTheOutput()
    {
        await using var js = await JsPeer.StartAsync();
        // A job holds its maximum price from the peer's account (escrow): credits first.
        await fixture.Silo.FundAsync(Did(js));
        var stdin = "hello over libp2p"u8.ToArray();

        var submitted = await js.CommandAsync("jobSubmit", new { addr = fixture.Address, moduleBase64 = Convert.ToBase64String(EchoModule), stdinBase64 = Convert.ToBase64String(stdin), validators = 1 });
        var job = submitted["job"]!;
        var id = job["id"]!.GetValue<string>();
        var output = await js.CommandAsync("jobOutput", new { addr = fixture.Address, jobId = id });

        Assert.Null(submitted["error"]);
        Assert.Equal("settled", job["status"]!.GetValue<string>());
        Assert.Contains(job["events"]!.AsArray(), e => e!["to"]!.GetValue<string>() == "validated" && e["reason"]!.GetValue<string>() == "all 2 nodes agree");
        // The job belongs to the peer's account: its did:key, from the key Noise verified.
        Assert.Equal(Did(js), job["submitter"]!.GetValue<string>());
        Assert.Equal(stdin, Convert.FromBase64String(output["outputBase64"]!.GetValue<string>()));
        var rest = await fixture.Silo.GetJsonAsync($"/api/jobs/{id}");
        Assert.Equal(job["resultHash"]!.GetValue<string>(), rest.GetProperty("resultHash").GetString());
    }

    [InteropFact]
    public async Task JsPeer_SubmitsAnInvalidJob_GetsTheFieldsNamed()
    {
        await using var js = await JsPeer.StartAsync();
        // A job holds its maximum price from the peer's account (escrow): credits first.
        await fixture.Silo.FundAsync(Did(js));

        var answer = await js.CommandAsync("jobSubmit", new { addr = fixture.Address, moduleBase64 = Convert.ToBase64String("not wasm"u8.ToArray()), validators = 1 });

        var error = answer["error"]!;
        Assert.Equal(400, error["code"]!.GetValue<int>());
        Assert.NotEmpty(error["fields"]!.AsArray());
    }

    [InteropFact]
    public async Task JsPeer_PutsAnObjectInFrames_AndReadsItBackByteIdentical()
    {
        await using var js = await JsPeer.StartAsync();
        const int Size = (5 << 20) + 12345;

        var put = await js.CommandAsync("objectPut", new { addr = fixture.Address, @namespace = "p2p", name = "peer/data.bin", bytes = Size, seed = 11, frame = 64 * 1024 }, TimeSpan.FromSeconds(120));
        var get = await js.CommandAsync("objectGet", new { addr = fixture.Address, @namespace = "p2p", name = "peer/data.bin", seed = 11 }, TimeSpan.FromSeconds(120));

        var stored = put["object"]!;
        Assert.Equal(Size, stored["size"]!.GetValue<long>());
        Assert.Equal(Did(js), stored["owner"]!.GetValue<string>());
        Assert.Equal(Size, get["received"]!.GetValue<long>());
        Assert.True(get["matches"]!.GetValue<bool>());
        Assert.Equal(stored["sha256"]!.GetValue<string>(), get["sha256"]!.GetValue<string>());
    }

    [InteropFact]
    public async Task JsPeer_PutWithAWrongSha256_IsRefused_AndNothingIsStored()
    {
        await using var js = await JsPeer.StartAsync();

        var put = await js.CommandAsync("objectPut", new { addr = fixture.Address, @namespace = "p2p", name = "peer/wrong.bin", bytes = 100_000, seed = 3, sha256 = new string('0', 64) });
        var get = await js.CommandAsync("objectGet", new { addr = fixture.Address, @namespace = "p2p", name = "peer/wrong.bin" });

        Assert.Equal(400, put["error"]!["code"]!.GetValue<int>());
        Assert.Equal(404, get["error"]!["code"]!.GetValue<int>());
    }

    [InteropFact]
    public async Task JsEdgeNode_GetsAnAssignment_RunsItWithNodesWasi_AgreesWithSiloNodes_AndGainsReputation()
    {
        await using var edge = await JsPeer.StartAsync();
        var welcome = (await edge.CommandAsync("edgeStart", new { addr = fixture.Address, concurrency = 2, price = "0.005" }))["welcome"]!;
        var nodeId = welcome["nodeId"]!.GetValue<string>();
        var listed = await fixture.NodeAsync(nodeId);
        var before = listed.GetProperty("reputation").GetDouble();

        // Two validators on a silo with two nodes: the third node of the job must be the edge node.
        await using var client = await JsPeer.StartAsync();
        // A job holds its maximum price from the peer's account (escrow): credits first.
        await fixture.Silo.FundAsync(Did(client));
        var stdin = Encoding.UTF8.GetBytes("run on the edge");
        var job = (await client.CommandAsync("jobSubmit", new { addr = fixture.Address, moduleBase64 = Convert.ToBase64String(EchoModule), stdinBase64 = Convert.ToBase64String(stdin), validators = 2 }, TimeSpan.FromSeconds(90)))["job"]!;
        var status = await edge.CommandAsync("edgeStatus");
        var id = job["id"]!.GetValue<string>();
        var rest = await fixture.Silo.GetJsonAsync($"/api/jobs/{id}");
        var after = await WaitAsync(async () => (await fixture.NodeAsync(nodeId)).GetProperty("reputation").GetDouble(), r => r > before);

        Assert.Equal(nodeId, Did(edge));
        Assert.True(listed.GetProperty("edge").GetBoolean());
        Assert.False(listed.GetProperty("relayed").GetBoolean());
        Assert.Equal("alive", listed.GetProperty("status").GetString());
        Assert.Equal(0.005m, listed.GetProperty("pricePerMillionFuel").GetDecimal());
        AssertEdgeRunAgreed(job, status, rest, stdin, nodeId);
        Assert.True(after > before, $"reputation {after} should exceed {before}");

        // A node whose connection ends is out of the schedule at once.
        await edge.CommandAsync("edgeStop");
        await WaitAsync(async () => (await fixture.NodeAsync(nodeId)).GetProperty("status").GetString(), s => s != "alive");
    }

    public static TheoryData<string> Abuses => ["oversized message", "malformed protobuf", "stream flood", "oversized body frame"];

    [InteropTheory]
    [MemberData(nameof(Abuses))]
    public async Task HostilePeer_OnXmblProtocols_LosesOnlyItsOwnConnection_WithTheReasonLogged_WhileAJsPeerIsServed(string abuse)
    {
        await using var js = await JsPeer.StartAsync();
        using var key = Ed25519KeyPair.Generate();
        await using var hostile = new P2PHost(key);
        await using var connection = await hostile.DialAsync(Multiaddr.Parse(fixture.Address), CancellationToken.None);

        // The JS peer stores and reads back an object while the abuse goes on.
        var served = Task.Run(async () =>
        {
            var put = await js.CommandAsync("objectPut", new { addr = fixture.Address, @namespace = "p2p", name = $"served/{abuse.Replace(' ', '-')}", bytes = 2 << 20, seed = 5 }, TimeSpan.FromSeconds(90));
            var get = await js.CommandAsync("objectGet", new { addr = fixture.Address, @namespace = "p2p", name = $"served/{abuse.Replace(' ', '-')}", seed = 5 }, TimeSpan.FromSeconds(90));
            return (put, get);
        });
        await AbuseAsync(connection, abuse);

        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(20));
        var (put, get) = await served;
        Assert.Null(put["error"]);
        Assert.True(get["matches"]!.GetValue<bool>());
        var said = "connection to peer " + key.PublicKey.Did;
        var log = await WaitAsync(() => Task.FromResult(fixture.Silo.Output), o => o.Contains(said, StringComparison.Ordinal));
        var at = log.IndexOf(said, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no bridge warning names the hostile peer. Output:\n{log}");
        var end = log.IndexOf('\n', at);
        var message = log[at..(end < 0 ? log.Length : end)];
        Assert.Contains("P2PBridge[341", log[Math.Max(0, at - 200)..at], StringComparison.Ordinal);
        Assert.Contains(abuse switch
        {
            "stream flood" => "stream flood",
            "malformed protobuf" => "malformed",
            "oversized body frame" => "body frame",
            _ => "at most",
        }, message, StringComparison.Ordinal);
    }

    private static async Task AbuseAsync(P2PConnection connection, string abuse)
    {
        switch (abuse)
        {
            case "oversized message":
            {
                // A prefix announcing 100 MiB on the object protocol (its messages are at most 64 KiB).
                var stream = await connection.OpenStreamAsync("/xmbl/object/1.0.0", CancellationToken.None);
                var prefix = new byte[10];
                await stream.WriteAsync(prefix.AsMemory(0, Varint.Write(prefix, 100UL << 20)));
                break;
            }

            case "malformed protobuf":
            {
                // Field 1 (length-delimited) claiming more bytes than the message holds.
                var stream = await connection.OpenStreamAsync("/xmbl/job/1.0.0", CancellationToken.None);
                await stream.WriteAsync(new byte[] { 5, 0x0A, 0xFF, 0xFF, 0xFF, 0x0F });
                break;
            }

            case "oversized body frame":
            {
                var stream = await connection.OpenStreamAsync("/xmbl/object/1.0.0", CancellationToken.None);
                var header = new Gateway.P2P.Messages.ObjectRequest { Put = new() { Namespace = "p2p", Name = "hostile.bin" } };
                var bytes = Google.Protobuf.MessageExtensions.ToByteArray(header);
                var frame = new byte[20];
                var n = Varint.Write(frame, (ulong)bytes.Length);
                await stream.WriteAsync(frame.AsMemory(0, n));
                await stream.WriteAsync(bytes);
                await stream.WriteAsync(frame.AsMemory(0, Varint.Write(frame, 64UL << 20)));
                break;
            }

            default:
            {
                // More /xmbl streams at once than a connection may have (32 by default), each waiting silently.
                for (var i = 0; i < 40 && !connection.Closing.IsCancellationRequested; i++)
                {
                    try
                    {
                        await connection.OpenStreamAsync("/xmbl/job/1.0.0", CancellationToken.None);
                    }
                    catch (Exception e) when (e is IOException or P2PProtocolException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
                    {
                        break;
                    }
                }

                break;
            }
        }
    }

    /// <summary>
    /// The job settled with all three nodes agreeing; the edge node ran it on <paramref name="stdin"/> (its own record,
    /// <paramref name="status"/>), and its assignment in the REST view agreed with the metered fuel of the silo run
    /// (all three hashes are one, so it is paid that fuel at its own price).
    /// </summary>
    internal static void AssertEdgeRunAgreed(System.Text.Json.Nodes.JsonNode job, System.Text.Json.Nodes.JsonNode status, System.Text.Json.JsonElement rest, byte[] stdin, string nodeId)
    {
        var id = job["id"]!.GetValue<string>();
        Assert.Equal("settled", job["status"]!.GetValue<string>());
        Assert.Contains(job["events"]!.AsArray(), e => e!["reason"]!.GetValue<string>() == "all 3 nodes agree");
        var ran = Assert.Single(status["results"]!.AsArray(), r => r!["jobId"]!.GetValue<string>() == id)!;
        Assert.Equal(stdin, Convert.FromBase64String(ran["output"]!.GetValue<string>()));
        var assignment = Assert.Single(rest.GetProperty("assignments").EnumerateArray(), a => a.GetProperty("nodeId").GetString() == nodeId);
        Assert.True(assignment.GetProperty("agreed").GetBoolean());
        Assert.Equal(job["fuel"]!.GetValue<long>(), assignment.GetProperty("fuel").GetInt64());
    }

    internal static string Did(JsPeer peer) => PeerId.Parse(peer.PeerId).TryGetPublicKey()!.Did;

    internal static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(100);
        }
    }

    internal static byte[] Fixture(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var path = Path.Combine(d.FullName, "tests", "fixtures", "wasm", name);
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }

        throw new FileNotFoundException($"tests/fixtures/wasm/{name} not found above {AppContext.BaseDirectory}.");
    }
}

/// <summary>One silo for every bridge test.</summary>
[CollectionDefinition(nameof(BridgeCollection))]
public sealed class BridgeCollection : ICollectionFixture<BridgeSiloFixture>;
