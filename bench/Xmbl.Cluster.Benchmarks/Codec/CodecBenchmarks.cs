using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Xmbl.Cluster.Storage.Codec;

namespace Xmbl.Cluster.Benchmarks.Codec;

/// <summary>
/// Reed-Solomon encode and reconstruct (two data shards lost) with the machine's best kernel.
/// Run: dotnet run -c Release --project bench/Xmbl.Cluster.Benchmarks -- --filter '*CodecBenchmarks*' --job short
/// The "Data GB/s" column is k * shard size / mean time.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class CodecBenchmarks
{
    private ReedSolomonCodec _codec = null!;
    private ReadOnlyMemory<byte>[] _data = [];
    private Memory<byte>[] _parity = [];
    private Memory<byte>[] _shards = [];
    private bool[] _present = [];

    /// <summary>k+m.</summary>
    [Params("3+2", "10+4", "17+3")]
    public string Shape { get; set; } = "3+2";

    [Params(64 * 1024, 1024 * 1024)]
    public int ShardSize { get; set; } = 64 * 1024;

    public static (int K, int M) ParseShape(string shape)
    {
        var plus = shape.IndexOf('+', StringComparison.Ordinal);
        return (int.Parse(shape.AsSpan(0, plus), provider: null), int.Parse(shape.AsSpan(plus + 1), provider: null));
    }

    [GlobalSetup]
    public void Setup()
    {
        var (k, m) = ParseShape(Shape);
        _codec = new ReedSolomonCodec(k, m);
        var random = new Random(42);
        var buffers = new byte[k + m][];
        for (var i = 0; i < buffers.Length; i++)
        {
            buffers[i] = GC.AllocateUninitializedArray<byte>(ShardSize, pinned: true);
            random.NextBytes(buffers[i]);
        }

        _data = [.. buffers[..k].Select(b => (ReadOnlyMemory<byte>)b)];
        _parity = [.. buffers[k..].Select(b => (Memory<byte>)b)];
        _shards = [.. buffers.Select(b => (Memory<byte>)b)];
        _codec.Encode(_data, _parity);
        _present = [.. Enumerable.Repeat(true, k + m)];
        _present[0] = false;
        _present[1] = false;
    }

    [Benchmark]
    public void Encode() => _codec.Encode(_data, _parity);

    /// <summary>Rebuilds data shards 0 and 1 from the other shards, in place.</summary>
    [Benchmark]
    public void Reconstruct() => _codec.ReconstructData(_shards, _present);

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new DataThroughputColumn());
    }

    /// <summary>Bytes of data (k * shard size) per nanosecond, i.e. GB/s.</summary>
    private sealed class DataThroughputColumn : IColumn
    {
        public string Id => nameof(DataThroughputColumn);

        public string ColumnName => "Data GB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Data bytes (k * shard size) per second, in 10^9 bytes";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            if (statistics is null || statistics.Mean <= 0)
            {
                return "NA";
            }

            var (k, _) = ParseShape((string)benchmarkCase.Parameters[nameof(Shape)]);
            var size = (int)benchmarkCase.Parameters[nameof(ShardSize)];
            return ((double)k * size / statistics.Mean).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
