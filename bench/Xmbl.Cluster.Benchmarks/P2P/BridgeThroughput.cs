using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Xmbl.Cluster.Gateway.P2P;
using Xmbl.Cluster.Gateway.P2P.Messages;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.Benchmarks.P2P;

/// <summary>
/// The gateway's libp2p bridge against REST, through one real embedded silo, in one run: an object put and get over
/// <c>/xmbl/object/1.0.0</c> (our libp2p client, 1 MiB body frames) and over <c>PUT/GET /api/objects</c> (HttpClient,
/// unsigned with <c>--trust-loopback</c>, as bench/objects/roundtrip.sh); and the job round trip, submit to settled,
/// over <c>/xmbl/job/1.0.0</c> (submit with follow) and REST (<c>POST /api/jobs</c> signed, then its server-sent
/// events until final), one job at a time, the echo module inline.
/// </summary>
/// <remarks><c>dotnet build src/Silo -c Release &amp;&amp; dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- p2p-bridge [--mib 256] [--rounds 2] [--jobs 50]</c></remarks>
public static class BridgeThroughput
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "p2p-bridge";

    private const int Frame = 1 << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var mib = BenchArgs.Int(args, "--mib", 256);
        var rounds = BenchArgs.Int(args, "--rounds", 2);
        var jobs = BenchArgs.Int(args, "--jobs", 50);
        var data = new byte[(long)mib << 20];
        Random.Shared.NextBytes(data);
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        var module = File.ReadAllBytes(Fixture("echo.wasm"));

        using var directory = new TempDirectory("xmbl-bridge-bench");
        await using var silo = await SiloProcess.StartAsync(directory.Path, "--p2p-port", "0", "--trust-loopback", "--Logging:LogLevel:Default", "Warning");
        var cluster = await silo.GetJsonAsync("/api/cluster");
        var address = Multiaddr.Parse(cluster.GetProperty("p2p").GetString()!);
        var nodes = cluster.GetProperty("nodes").GetArrayLength();
        using var key = Ed25519KeyPair.Generate();
        await using var client = new P2PHost(key);
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        await silo.FundAsync(key.PublicKey.Did);
        await silo.FundAsync();
        using var rest = new HttpClient { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };

        // Warm-up: JIT and the first stores, then the measured rounds side by side.
        await BridgePutAsync(connection, "warm-p2p", data.AsMemory(0, 16 << 20), null);
        await BridgeGetAsync(connection, "warm-p2p");
        await RestPutAsync(rest, "warm-rest", data.AsMemory(0, 16 << 20));
        await RestGetAsync(rest, "warm-rest");
        await BridgeJobAsync(connection, module);
        await RestJobAsync(silo.Http, module);

        Console.WriteLine($"# {mib} MiB object, {Environment.ProcessorCount} cores, loopback, one embedded silo ({nodes} nodes, 3+2 coding); load average {Load()}");
        Console.WriteLine("# MiB/s, then CPU ms per MiB (user + system, from /proc) of the silo and of this process (the client)");
        Console.WriteLine("round | path                 |   put MiB/s |   get MiB/s | put silo | put client | get silo | get client");
        var cpu = new CpuMeter(silo.ProcessId, mib);
        for (var round = 1; round <= rounds; round++)
        {
            var (p2pPut, p2pPutCpu) = await cpu.TimeAsync(() => BridgePutAsync(connection, $"p2p-{round}", data, sha));
            var (p2pGet, p2pGetCpu) = await cpu.TimeAsync(() => BridgeGetAsync(connection, $"p2p-{round}", data.LongLength));
            var (restPut, restPutCpu) = await cpu.TimeAsync(() => RestPutAsync(rest, $"rest-{round}", data));
            var (restGet, restGetCpu) = await cpu.TimeAsync(() => RestGetAsync(rest, $"rest-{round}", data.LongLength));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} | /xmbl/object/1.0.0   | {mib / p2pPut,11:0} | {mib / p2pGet,11:0} | {p2pPutCpu.Silo,8:0.00} | {p2pPutCpu.Client,10:0.00} | {p2pGetCpu.Silo,8:0.00} | {p2pGetCpu.Client,10:0.00}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} | REST /api/objects    | {mib / restPut,11:0} | {mib / restGet,11:0} | {restPutCpu.Silo,8:0.00} | {restPutCpu.Client,10:0.00} | {restGetCpu.Silo,8:0.00} | {restGetCpu.Client,10:0.00}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} | ratio bridge / REST  | {restPut / p2pPut,11:0.00} | {restGet / p2pGet,11:0.00}"));
        }

        Console.WriteLine($"# job round trip, submit to settled (validators 1: 2 nodes run it), {jobs} jobs one at a time; load average {Load()}");
        Console.WriteLine("round | path                 |  p50 ms |  p90 ms | mean ms");
        for (var round = 1; round <= rounds; round++)
        {
            var p2p = new List<double>(jobs);
            var viaRest = new List<double>(jobs);
            for (var i = 0; i < jobs; i++)
            {
                p2p.Add(await TimeAsync(() => BridgeJobAsync(connection, module)) * 1000);
                viaRest.Add(await TimeAsync(() => RestJobAsync(silo.Http, module)) * 1000);
            }

            JobRow(round, "/xmbl/job/1.0.0", p2p);
            JobRow(round, "REST /api/jobs + SSE", viaRest);
        }

        Console.WriteLine($"# load average at the end {Load()}");
        return 0;
    }

    private static async Task BridgePutAsync(P2PConnection connection, string name, ReadOnlyMemory<byte> body, string? sha)
    {
        await using var stream = await connection.OpenStreamAsync("/xmbl/object/1.0.0", CancellationToken.None);
        var put = new PutObject { Namespace = "bench", Name = name, Size = (ulong)body.Length };
        if (sha is not null)
        {
            put.Sha256 = sha;
        }

        WriteMessage(stream.Output, new ObjectRequest { Put = put });
        for (var offset = 0; offset < body.Length; offset += Frame)
        {
            await Framing.WriteFrameAsync(stream.Output, body.Slice(offset, Math.Min(Frame, body.Length - offset)), CancellationToken.None);
        }

        WriteFrame(stream.Output, []);
        await stream.Output.FlushAsync();
        var response = ObjectResponse.Parser.ParseFrom(await ReadPayloadAsync(stream.Input));
        if (response.ResponseCase != ObjectResponse.ResponseOneofCase.Object)
        {
            throw new InvalidOperationException($"put {name}: {response.Error}");
        }
    }

    private static async Task BridgeGetAsync(P2PConnection connection, string name, long expected = -1)
    {
        await using var stream = await connection.OpenStreamAsync("/xmbl/object/1.0.0", CancellationToken.None);
        WriteMessage(stream.Output, new ObjectRequest { Get = new GetObject { Namespace = "bench", Name = name } });
        await stream.Output.FlushAsync();
        var response = ObjectResponse.Parser.ParseFrom(await ReadPayloadAsync(stream.Input));
        if (response.ResponseCase != ObjectResponse.ResponseOneofCase.Object)
        {
            throw new InvalidOperationException($"get {name}: {response.Error}");
        }

        // Body frames, consumed as they arrive (a discarding reader, as the REST side's).
        long received = 0;
        var remaining = 0L;
        while (true)
        {
            var result = await stream.Input.ReadAsync();
            var buffer = result.Buffer;
            if (remaining == 0)
            {
                var header = new SequenceReader<byte>(buffer);
                var status = LengthPrefix.TryReadPrefix(ref header, Frame * 16, out var length);
                if (status == LengthPrefixStatus.Incomplete && !result.IsCompleted)
                {
                    stream.Input.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                if (status != LengthPrefixStatus.Complete)
                {
                    throw new InvalidOperationException($"get {name}: a bad body frame ({status}).");
                }

                stream.Input.AdvanceTo(header.Position);
                if (length == 0)
                {
                    break;
                }

                remaining = (long)length;
                continue;
            }

            var n = Math.Min(buffer.Length, remaining);
            received += n;
            remaining -= n;
            stream.Input.AdvanceTo(buffer.GetPosition(n));
            if (n == 0 && result.IsCompleted)
            {
                throw new InvalidOperationException($"get {name}: the body ended early.");
            }
        }

        Check(name, received, expected);
    }

    private static async Task BridgeJobAsync(P2PConnection connection, byte[] module)
    {
        await using var stream = await connection.OpenStreamAsync("/xmbl/job/1.0.0", CancellationToken.None);
        var submit = new SubmitJob { Module = ByteString.CopyFrom(module), Stdin = ByteString.CopyFromUtf8("bench"), Validators = 1, Follow = true };
        WriteMessage(stream.Output, new JobRequest { Submit = submit });
        await stream.Output.FlushAsync();
        string? status = null;
        while (await ReadPayloadAsync(stream.Input, allowEnd: true) is { } payload)
        {
            var response = JobResponse.Parser.ParseFrom(payload);
            status = response.ResponseCase == JobResponse.ResponseOneofCase.Job ? response.Job.Status : throw new InvalidOperationException($"job: {response.Error}");
        }

        if (status != "settled")
        {
            throw new InvalidOperationException($"job ended {status}");
        }
    }

    private static async Task RestPutAsync(HttpClient http, string name, ReadOnlyMemory<byte> body)
    {
        using var response = await http.PutAsync(new Uri($"/api/objects/bench/{name}", UriKind.Relative), new ReadOnlyMemoryContent(body));
        response.EnsureSuccessStatusCode();
    }

    private static async Task RestGetAsync(HttpClient http, string name, long expected = -1)
    {
        using var response = await http.GetAsync(new Uri($"/api/objects/bench/{name}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        long received = 0;
        for (int n; (n = await body.ReadAsync(buffer)) > 0;)
        {
            received += n;
        }

        ArrayPool<byte>.Shared.Return(buffer);
        Check(name, received, expected);
    }

    private static async Task RestJobAsync(HttpClient http, byte[] module)
    {
        using var submitted = await http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), new { moduleBase64 = Convert.ToBase64String(module), stdin = "bench", validators = 1 });
        submitted.EnsureSuccessStatusCode();
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        using var events = await http.GetAsync(new Uri($"/api/jobs/{id}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        events.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        string? last = null;
        for (string? line; (line = await reader.ReadLineAsync()) is not null;)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                last = line;
            }
        }

        if (last is null || !last.Contains("\"settled\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"job {id} ended: {last}");
        }
    }

    private static void WriteMessage(System.IO.Pipelines.PipeWriter writer, IMessage message)
    {
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)message.CalculateSize()));
        message.WriteTo(writer);
    }

    private static void WriteFrame(System.IO.Pipelines.PipeWriter writer, ReadOnlySpan<byte> data)
    {
        var span = writer.GetSpan(Varint.MaxLength64);
        writer.Advance(Varint.Write(span, (ulong)data.Length));
        writer.Write(data);
    }

    /// <summary>One length-prefixed message (a copy: these are small); null at the stream's end when allowed.</summary>
    private static async Task<byte[]?> ReadPayloadAsync(System.IO.Pipelines.PipeReader reader, bool allowEnd = false)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            var status = LengthPrefix.TryParse(result.Buffer, 64 << 20, out var payload, out var end, out _);
            if (status == LengthPrefixStatus.Complete)
            {
                var bytes = payload.ToArray();
                reader.AdvanceTo(end);
                return bytes;
            }

            if (status != LengthPrefixStatus.Incomplete)
            {
                throw new InvalidOperationException($"a bad message ({status}).");
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (result.IsCompleted)
            {
                return allowEnd && result.Buffer.IsEmpty ? null : throw new InvalidOperationException("the stream ended inside a message.");
            }
        }
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Wall time of a transfer and the CPU it cost the silo and this process, per MiB moved.</summary>
    private sealed class CpuMeter(int siloPid, int mib)
    {
        private const double MsPerTick = 10; // /proc counts CPU time in USER_HZ ticks, 100 per second on Linux

        public async Task<(double Seconds, (double Silo, double Client) CpuMsPerMiB)> TimeAsync(Func<Task> action)
        {
            var (silo, client) = (Ticks(siloPid), Ticks(Environment.ProcessId));
            var watch = Stopwatch.StartNew();
            await action();
            var seconds = watch.Elapsed.TotalSeconds;
            return (seconds, ((Ticks(siloPid) - silo) * MsPerTick / mib, (Ticks(Environment.ProcessId) - client) * MsPerTick / mib));
        }

        // utime + stime: fields 14 and 15 of /proc/<pid>/stat, counted after the ")" that ends the command name.
        private static long Ticks(int pid)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
    }

    private static void JobRow(int round, string path, List<double> ms)
    {
        ms.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} | {path,-20} | {ms[ms.Count / 2],7:0.0} | {ms[(int)(ms.Count * 0.9)],7:0.0} | {ms.Average(),7:0.0}"));
    }

    private static void Check(string name, long received, long expected)
    {
        if (expected >= 0 && received != expected)
        {
            throw new InvalidOperationException($"{name}: received {received} bytes of {expected}.");
        }
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string Fixture(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var path = Path.Combine(d.FullName, "tests", "fixtures", "wasm", name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"tests/fixtures/wasm/{name} not found above {AppContext.BaseDirectory}.");
    }
}
