using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P;
using Xmbl.Cluster.P2P.Interop.Tests;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.Benchmarks.P2P;

/// <summary>
/// Loopback run of the libp2p stack (not a BenchmarkDotNet micro-benchmark): bulk throughput over one Yamux stream
/// into a discarding sink, and connection set-up time (TCP + Noise + Yamux), for ours→ours, ours→JS, JS→ours and
/// JS→JS, in one run. The JS peers are js/peer.mjs of the interop tests (install with `npm ci` there).
/// </summary>
/// <remarks><c>dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- p2p [--mib 512] [--dials 100] [--rounds 2] [--window-kib 1024] [--warmup-mib 64]</c></remarks>
public static class P2PThroughput
{
    /// <summary>The switch that selects this run.</summary>
    public const string Switch = "p2p";

    private const string Discard = "/xmbl-test/discard/1.0.0";

    public static async Task<int> RunAsync(string[] args)
    {
        var mib = BenchArgs.Int(args, "--mib", 512);
        var dials = BenchArgs.Int(args, "--dials", 100);
        var rounds = BenchArgs.Int(args, "--rounds", 2);
        var options = new Xmbl.Cluster.P2P.Options.P2POptions { StreamReceiveWindow = BenchArgs.Int(args, "--window-kib", Xmbl.Cluster.P2P.Options.P2POptions.DefaultStreamReceiveWindow / 1024) * 1024 };
        var bytes = (long)mib << 20;

        using var serverKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        await using var server = new P2PHost(serverKey, options);
        server.Handle(Discard, async (stream, _, ct) =>
        {
            long total = 0;
            while (true)
            {
                var result = await stream.Input.ReadAsync(ct);
                total += result.Buffer.Length;
                stream.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            var reply = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(reply, total);
            await stream.WriteAsync(reply, ct);
            await stream.CloseWriteAsync();
        });
        var ours = await server.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CancellationToken.None);
        await using var client = new P2PHost(clientKey, options);

        var js = JsPeer.MissingReason is null;
        await using var jsServer = js ? await JsPeer.StartAsync() : null;
        await using var jsClient = js ? await JsPeer.StartAsync() : null;
        if (!js)
        {
            Console.WriteLine($"# JS rows skipped: {JsPeer.MissingReason}");
        }

        // One unmeasured transfer per path first, so round 1 does not time the JITs (ours and V8) warming up.
        var warmUp = (long)BenchArgs.Int(args, "--warmup-mib", 64) << 20;
        if (warmUp > 0)
        {
            await OursSendAsync(client, ours, warmUp);
            if (js)
            {
                var jsAddress = Multiaddr.Parse(jsServer!.Address);
                await OursSendAsync(client, jsAddress, warmUp);
                await JsSendAsync(jsClient!, ours, warmUp);
                await JsSendAsync(jsClient!, jsAddress, warmUp);
            }
        }

        Console.WriteLine($"# {mib} MiB per transfer over one yamux stream into a discarding sink, after a {warmUp >> 20} MiB warm-up per path; {dials} sequential dials; loopback; {Environment.ProcessorCount} cores");
        Console.WriteLine("round | path        | throughput MiB/s | connection set-up ms");
        for (var round = 1; round <= rounds; round++)
        {
            Row(round, "ours -> ours", await OursSendAsync(client, ours, bytes), await OursDialAsync(client, ours, dials));
            if (js)
            {
                var jsAddress = Multiaddr.Parse(jsServer!.Address);
                Row(round, "ours -> JS", await OursSendAsync(client, jsAddress, bytes), await OursDialAsync(client, jsAddress, dials));
                Row(round, "JS -> ours", await JsSendAsync(jsClient!, ours, bytes), await JsDialAsync(jsClient!, ours, dials));
                Row(round, "JS -> JS", await JsSendAsync(jsClient!, jsAddress, bytes), await JsDialAsync(jsClient!, jsAddress, dials));
            }
        }

        return 0;
    }

    private static void Row(int round, string path, double mibPerSecond, double dialMs) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} | {path,-11} | {mibPerSecond,16:0} | {dialMs,20:0.00}"));

    private static async Task<double> OursSendAsync(P2PHost client, Multiaddr address, long bytes)
    {
        await using var connection = await client.DialAsync(address, CancellationToken.None);
        var chunk = new byte[256 * 1024];
        Random.Shared.NextBytes(chunk);
        var watch = Stopwatch.StartNew();
        await using var stream = await connection.OpenStreamAsync(Discard, CancellationToken.None);
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)));
        }

        await stream.CloseWriteAsync();
        var reply = new byte[8];
        await stream.ReadExactlyAsync(reply);
        watch.Stop();
        Check(BinaryPrimitives.ReadInt64BigEndian(reply), bytes);
        return bytes / (1024.0 * 1024) / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> OursDialAsync(P2PHost client, Multiaddr address, int count)
    {
        var watch = new Stopwatch();
        for (var i = 0; i < count; i++)
        {
            watch.Start();
            var connection = await client.DialAsync(address, CancellationToken.None);
            watch.Stop();
            await connection.CloseAsync();
        }

        return watch.Elapsed.TotalMilliseconds / count;
    }

    private static async Task<double> JsSendAsync(JsPeer peer, Multiaddr address, long bytes)
    {
        var reply = await peer.CommandAsync("send", new { addr = address.ToString(), protocol = Discard, bytes, seed = 1, reuse = true }, TimeSpan.FromMinutes(10));
        Check(BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(reply["reply"]!.GetValue<string>())), bytes);
        return bytes / (1024.0 * 1024) / (reply["ms"]!.GetValue<double>() / 1000);
    }

    private static async Task<double> JsDialAsync(JsPeer peer, Multiaddr address, int count) =>
        (await peer.CommandAsync("dialBench", new { addr = address.ToString(), count }, TimeSpan.FromMinutes(5)))["meanMs"]!.GetValue<double>();

    private static void Check(long received, long sent)
    {
        if (received != sent)
        {
            throw new InvalidOperationException($"The sink counted {received} bytes of {sent}.");
        }
    }
}
