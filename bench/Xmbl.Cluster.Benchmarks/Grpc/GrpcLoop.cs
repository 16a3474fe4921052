using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Net.Client;
using Xmbl.Cluster.Gateway.Grpc.V1;
using GrpcJobs = Xmbl.Cluster.Gateway.Grpc.V1.Jobs;

namespace Xmbl.Cluster.Benchmarks.Grpc;

/// <summary>
/// Small-request throughput over gRPC with Grpc.Net.Client (ghz is not in Debian): CONCURRENCY unary calls in flight on
/// one HTTP/2 channel for SECONDS after a one-second warm-up; prints calls/s and latency percentiles. bench/grpc/compare.sh
/// runs it beside wrk (REST) and the grpc-js loop.
/// Usage: grpc-loop ADDRESS GetJob|SubmitJob SECONDS CONCURRENCY JOB_ID|MODULE_HASH
/// </summary>
public static class GrpcLoop
{
    public const string Switch = "grpc-loop";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 5)
        {
            await Console.Error.WriteLineAsync("usage: grpc-loop ADDRESS GetJob|SubmitJob SECONDS CONCURRENCY JOB_ID|MODULE_HASH");
            return 2;
        }

        using var channel = GrpcChannel.ForAddress(args[0]);
        var jobs = new GrpcJobs.JobsClient(channel);
        var get = new GetJobRequest { Id = args[4] };
        // The same 1 KiB job as the grpc-js loop and the REST body: the module hash and 944 bytes of stdin.
        var submit = new SubmitJobRequest { Module = args[4], Validators = 0, Stdin = ByteString.CopyFrom(new byte[944]) };
        Func<Task> call = args[1] == "GetJob" ? () => jobs.GetJobAsync(get).ResponseAsync : () => jobs.SubmitJobAsync(submit).ResponseAsync;
        var seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
        var concurrency = int.Parse(args[3], CultureInfo.InvariantCulture);

        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(1))
        {
            await call();
        }

        var latencies = new List<double>[concurrency];
        var clock = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async i =>
        {
            var mine = latencies[i] = new List<double>(100_000);
            while (clock.Elapsed < until)
            {
                var start = Stopwatch.GetTimestamp();
                await call();
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToList();
        double At(double q) => all[Math.Min(all.Count - 1, (int)(q * all.Count))];
        Console.WriteLine(FormattableString.Invariant($"{{\"method\":\"{args[1]}\",\"client\":\"Grpc.Net.Client\",\"calls\":{all.Count},\"perSecond\":{all.Count / elapsed:F0},\"p50ms\":{At(0.5):F2},\"p99ms\":{At(0.99):F2}}}"));
        return 0;
    }
}
