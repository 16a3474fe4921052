using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Storage.Codec;
using Xmbl.Cluster.Storage.Codec.Internal;

namespace Xmbl.Cluster.Benchmarks.Codec;

/// <summary>
/// A short, self-timed side-by-side run of our codec against ISA-L (bench/isal/isal_bench, one round at a time in
/// alternation with ours, so both see the same machine load), printed as a Markdown table. Also checks the
/// per-operation allocation budget in Codec/allocation-budget.json and exits 1 when a hot path starts allocating.
/// </summary>
/// <remarks>
/// Usage: --codec-compare [--isal-bench PATH] [--kernels best|all|name,name] [--shapes 3+2,10+4,17+3]
/// [--sizes 65536,1048576] [--round-ms 300] [--rounds 5] [--align 0]. Shards start at --align bytes past a 64-byte
/// boundary (0, like the ISA-L harness's posix_memalign buffers; 16 is where a plain byte[] starts). Both sides report
/// the best of the rounds (each round repeats the operation for round-ms) and use the same data-throughput
/// definition: k * shard size per second. The ratio column compares the machine's default kernel with ISA-L.
/// </remarks>
public static class CodecCompare
{
    public const string Switch = "--codec-compare";

    private const string BudgetFile = "allocation-budget.json";

    public static int Run(string[] args)
    {
        string? isal = null;
        var kernels = new List<GfKernelKind> { GfKernels.Best };
        var shapes = new[] { "3+2", "10+4", "17+3" };
        var sizes = new[] { 64 * 1024, 1024 * 1024 };
        var roundMs = 300;
        var rounds = 5;
        var alignment = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--isal-bench": isal = value; break;
                case "--kernels": kernels = ParseKernels(value); break;
                case "--shapes": shapes = value.Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--sizes": sizes = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--round-ms": roundMs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--align": alignment = int.Parse(value, CultureInfo.InvariantCulture) & 63; break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }

            i++;
        }

        var budget = LoadBudget();
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Kernel on this machine: {ReedSolomonCodec.ActiveKernel}; rounds {rounds} x {roundMs} ms, best round reported (GB/s of data = k x shard bytes / s); shards start {alignment} bytes past a 64-byte boundary.");
        table.AppendLine();
        table.Append("| k+m | shard | operation |");
        foreach (var kernel in kernels)
        {
            table.Append(CultureInfo.InvariantCulture, $" ours {GfKernels.Name(kernel)} GB/s |");
        }

        table.AppendLine(isal is null ? string.Empty : " ISA-L GB/s | ours/ISA-L |");
        table.Append("|---|---|---|");
        table.Append(string.Concat(Enumerable.Repeat("---:|", kernels.Count)));
        table.AppendLine(isal is null ? string.Empty : "---:|---:|");

        var overBudget = false;
        foreach (var shape in shapes)
        {
            var (k, m) = CodecBenchmarks.ParseShape(shape);
            foreach (var size in sizes)
            {
                // Rounds alternate between ISA-L and each of our kernels, so a burst of load from other processes hits
                // every contender alike; each reports its best round.
                var isalResults = isal is null ? null : new Dictionary<string, double>(StringComparer.Ordinal) { ["encode"] = 0, ["reconstruct"] = 0 };
                var ours = new Dictionary<string, double[]>(StringComparer.Ordinal) { ["encode"] = new double[kernels.Count], ["reconstruct"] = new double[kernels.Count] };
                var workloads = kernels.Select(kernel => new Workload(k, m, size, kernel, alignment)).ToArray();
                for (var r = 0; r < rounds; r++)
                {
                    if (isal is not null)
                    {
                        foreach (var (op, gbps) in RunIsal(isal, k, m, size, roundMs))
                        {
                            isalResults![op] = Math.Max(isalResults[op], gbps);
                        }
                    }

                    for (var ki = 0; ki < kernels.Count; ki++)
                    {
                        ours["encode"][ki] = Math.Max(ours["encode"][ki], Round(workloads[ki].Encode, (double)k * size, roundMs));
                        ours["reconstruct"][ki] = Math.Max(ours["reconstruct"][ki], Round(workloads[ki].Reconstruct, (double)k * size, roundMs));
                    }
                }

                for (var ki = 0; ki < kernels.Count; ki++)
                {
                    foreach (var op in new[] { "encode", "reconstruct" })
                    {
                        var bytesPerOp = AllocatedPerOp(op == "encode" ? workloads[ki].Encode : workloads[ki].Reconstruct);
                        var allowed = budget.TryGetValue(op, out var b) ? b : 0;
                        if (bytesPerOp > allowed)
                        {
                            overBudget = true;
                            Console.Error.WriteLine($"{op} {shape} {size} ({GfKernels.Name(kernels[ki])}) allocated {bytesPerOp:F1} bytes/op; budget is {allowed}.");
                        }
                    }
                }

                foreach (var op in new[] { "encode", "reconstruct" })
                {
                    table.Append(CultureInfo.InvariantCulture, $"| {k}+{m} | {FormatSize(size)} | {op} |");
                    foreach (var value in ours[op])
                    {
                        table.Append(CultureInfo.InvariantCulture, $" {value:F2} |");
                    }

                    if (isalResults is not null)
                    {
                        var reference = isalResults[op];
                        var defaultIndex = kernels.IndexOf(GfKernels.Best);
                        var mine = defaultIndex >= 0 ? ours[op][defaultIndex] : ours[op].Max();
                        table.Append(CultureInfo.InvariantCulture, $" {reference:F2} | {mine / reference * 100:F0}% |");
                    }

                    table.AppendLine();
                }

                Console.Error.WriteLine($"done {shape} {FormatSize(size)}");
            }
        }

        Console.WriteLine(table.ToString());
        return overBudget ? 1 : 0;
    }

    private static List<GfKernelKind> ParseKernels(string value)
    {
        if (value == "all")
        {
            return [.. GfKernels.Supported];
        }

        if (value == "best")
        {
            return [GfKernels.Best];
        }

        return [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(name =>
            GfKernels.TryParse(name, out var kind) && GfKernels.IsSupported(kind)
                ? kind
                : throw new ArgumentException($"Kernel '{name}' is unknown or not supported here."))];
    }

    /// <summary>One timed round: repeats <paramref name="action"/> for <paramref name="roundMs"/>; returns GB/s of data.</summary>
    private static double Round(Action action, double dataBytes, int roundMs)
    {
        for (var i = 0; i < 4; i++)
        {
            action();
        }

        long iterations = 0;
        var watch = Stopwatch.StartNew();
        do
        {
            action();
            iterations++;
        }
        while (watch.Elapsed.TotalMilliseconds < roundMs);
        watch.Stop();
        return dataBytes * iterations / watch.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>
    /// Bytes allocated per call, counted after the timed rounds once the code is fully tiered up (as BenchmarkDotNet's
    /// MemoryDiagnoser does), so JIT and tiering work on this thread is not charged to the codec.
    /// </summary>
    private static double AllocatedPerOp(Action action)
    {
        const int Ops = 16;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Ops; i++)
        {
            action();
        }

        return (double)(GC.GetAllocatedBytesForCurrentThread() - before) / Ops;
    }

    private static Dictionary<string, double> RunIsal(string path, int k, int m, int size, int roundMs)
    {
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { k, m, size, roundMs, 1 })
        {
            info.ArgumentList.Add(arg.ToString(CultureInfo.InvariantCulture));
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {path}.");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{path} exited with {process.ExitCode}.");
        }

        // Lines: "isal <op> k=K m=M size=S gbps=X median_gbps=Y"
        var results = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            var gbps = parts.Single(p => p.StartsWith("gbps=", StringComparison.Ordinal))["gbps=".Length..];
            results[parts[1]] = double.Parse(gbps, CultureInfo.InvariantCulture);
        }

        return results;
    }

    private static Dictionary<string, double> LoadBudget()
    {
        // The budget lives beside this source file; find it from the repository root above the binaries.
        string? path = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && path is null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "bench", "Xmbl.Cluster.Benchmarks", "Codec", BudgetFile);
            path = File.Exists(candidate) ? candidate : null;
        }

        if (path is null)
        {
            throw new FileNotFoundException($"bench/Xmbl.Cluster.Benchmarks/Codec/{BudgetFile} not found above {AppContext.BaseDirectory}.");
        }

        return JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    private static string FormatSize(int size) => size >= 1024 * 1024 && size % (1024 * 1024) == 0
        ? $"{size / (1024 * 1024)} MiB"
        : $"{size / 1024} KiB";

    /// <summary>One stripe's buffers and a codec; reconstruct rebuilds data shards 0 and 1 in place.</summary>
    private sealed class Workload
    {
        private readonly ReedSolomonCodec _codec;
        private readonly ReadOnlyMemory<byte>[] _data;
        private readonly Memory<byte>[] _parity;
        private readonly Memory<byte>[] _shards;
        private readonly bool[] _present;

        public Workload(int k, int m, int size, GfKernelKind kernel, int alignment)
        {
            _codec = new ReedSolomonCodec(k, m, kernel);
            var random = new Random(12345);
            var buffers = new Memory<byte>[k + m];
            for (var i = 0; i < buffers.Length; i++)
            {
                buffers[i] = AlignedBuffer(size, alignment);
                random.NextBytes(buffers[i].Span);
            }

            _data = [.. buffers[..k].Select(b => (ReadOnlyMemory<byte>)b)];
            _parity = [.. buffers[k..]];
            _shards = buffers;
            _present = [.. Enumerable.Repeat(true, k + m)];
            _present[0] = false;
            _present[1] = false;
            _codec.Encode(_data, _parity);
            var expected = buffers[0].ToArray();
            buffers[0].Span.Clear();
            buffers[1].Span.Clear();
            _codec.ReconstructData(_shards, _present);
            if (!expected.AsSpan().SequenceEqual(buffers[0].Span))
            {
                throw new InvalidOperationException("Reconstruction check failed before timing.");
            }
        }

        public void Encode() => _codec.Encode(_data, _parity);

        public void Reconstruct() => _codec.ReconstructData(_shards, _present);

        /// <summary>
        /// A window of a pinned array whose first byte sits at <paramref name="alignment"/> (mod 64): 0 matches the
        /// ISA-L harness (posix_memalign 64); 16 is where a plain byte[] starts on x64.
        /// </summary>
        private static unsafe Memory<byte> AlignedBuffer(int size, int alignment)
        {
            var array = GC.AllocateUninitializedArray<byte>(size + 128, pinned: true);
            var address = (nint)Unsafe.AsPointer(ref array[0]);
            var start = (int)((alignment - address) & 63);
            return array.AsMemory(start, size);
        }
    }
}
