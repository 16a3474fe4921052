using System.Diagnostics;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Tests.Support;
using Xunit.Abstractions;

namespace Xmbl.Cluster.Storage.Tests.Objects;

/// <summary>
/// A manual measurement, not a unit test: round-trips a large object through the pipeline over five local node stores
/// and prints throughput, peak working set and GC allocation. Run it on its own (see docs/benchmarks-storage.md):
/// <c>XMBL_MEASURE_MIB=1024 dotnet test tests/Xmbl.Cluster.Storage.Tests -c Release --filter "FullyQualifiedName~ObjectPipelineMeasurementTests" --logger "console;verbosity=detailed"</c>.
/// It asserts only what must hold whatever the machine: the bytes come back and the stripe buffers stay bounded.
/// </summary>
public sealed class ObjectPipelineMeasurementTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Suite", "Stress")]
    public async Task RoundTrip_LargeObject_ReportsThroughputAndMemory()
    {
        var mib = int.TryParse(Environment.GetEnvironmentVariable("XMBL_MEASURE_MIB"), out var m) ? m : 256;
        var size = (long)mib * 1024 * 1024;
        using var nodes = new LocalNodes(5);
        var options = new StorageOptions();
        if (int.TryParse(Environment.GetEnvironmentVariable("XMBL_MEASURE_STRIPES_IN_FLIGHT"), out var inFlight))
        {
            options.StripesInFlight = inFlight;
        }

        var writePool = new StripeBufferPool();
        var readPool = new StripeBufferPool();
        var writer = new ObjectWriter(nodes.Client, writePool, options: options);
        var reader = new ObjectReader(nodes.Client, readPool, options);
        using var process = Process.GetCurrentProcess();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        process.Refresh();
        var workingSetBefore = process.WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var peak = new PeakSampler();

        var cpuBefore = process.TotalProcessorTime;
        var userBefore = process.UserProcessorTime;
        var write = Stopwatch.StartNew();
        var manifest = await writer.WriteAsync(new ObjectWriteRequest("bench", "big"), new RepeatingStream(size), nodes.Candidates());
        write.Stop();
        process.Refresh();
        var cpuAfterWrite = process.TotalProcessorTime;
        var userAfterWrite = process.UserProcessorTime;
        var allocatedAfterWrite = GC.GetTotalAllocatedBytes(precise: true);

        var read = Stopwatch.StartNew();
        await reader.ReadAsync(manifest, Stream.Null);
        read.Stop();
        process.Refresh();
        var cpuAfterRead = process.TotalProcessorTime;
        var userAfterRead = process.UserProcessorTime;
        var allocatedAfterRead = GC.GetTotalAllocatedBytes(precise: true);
        var peakWorkingSet = await peak.StopAsync();

        var stripeBuffer = (long)(options.DataShards + options.ParityShards) * options.ShardSize;
        Assert.Equal(size, manifest.Size);
        Assert.InRange(writePool.PeakRentedBytes, 1, options.StripesInFlight * stripeBuffer);
        Assert.InRange(readPool.PeakRentedBytes, 1, options.StripesInFlight * stripeBuffer);

        output.WriteLine($"object: {mib} MiB, {manifest.Stripes.Count} stripes, k={manifest.DataShards} m={manifest.ParityShards} shard={manifest.ShardSize} B, {options.StripesInFlight} stripes in flight, codec kernel {Xmbl.Cluster.Storage.Codec.ReedSolomonCodec.ActiveKernel}");
        output.WriteLine($"put: {write.Elapsed.TotalSeconds:F2} s, {mib / write.Elapsed.TotalSeconds:F1} MB/s (MiB/s of object bytes)");
        output.WriteLine($"get: {read.Elapsed.TotalSeconds:F2} s, {mib / read.Elapsed.TotalSeconds:F1} MB/s (MiB/s of object bytes)");
        output.WriteLine($"CPU time (all threads, of it user): put {(cpuAfterWrite - cpuBefore).TotalSeconds:F2} s ({(userAfterWrite - userBefore).TotalSeconds:F2} s), get {(cpuAfterRead - cpuAfterWrite).TotalSeconds:F2} s ({(userAfterRead - userAfterWrite).TotalSeconds:F2} s)");
        output.WriteLine($"GC allocated: put {(allocatedAfterWrite - allocatedBefore) / 1048576.0:F1} MiB, get {(allocatedAfterRead - allocatedAfterWrite) / 1048576.0:F1} MiB");
        output.WriteLine($"working set: before {workingSetBefore / 1048576.0:F0} MiB, peak during run {peakWorkingSet / 1048576.0:F0} MiB (sampled every 50 ms)");
        output.WriteLine($"stripe buffers: put peak {writePool.PeakRentedBytes / 1048576.0:F0} MiB in {writePool.PeakRentedCount} buffers, get peak {readPool.PeakRentedBytes / 1048576.0:F0} MiB in {readPool.PeakRentedCount} buffers");
    }

    /// <summary>Samples the process working set until stopped and reports the highest value.</summary>
    private sealed class PeakSampler
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<long> _task;

        public PeakSampler() => _task = Task.Run(SampleAsync);

        public async Task<long> StopAsync()
        {
            await _stop.CancelAsync();
            return await _task;
        }

        private async Task<long> SampleAsync()
        {
            using var process = Process.GetCurrentProcess();
            long peak = 0;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            try
            {
                do
                {
                    process.Refresh();
                    peak = Math.Max(peak, process.WorkingSet64);
                }
                while (await timer.WaitForNextTickAsync(_stop.Token));
            }
            catch (OperationCanceledException)
            {
            }

            process.Refresh();
            return Math.Max(peak, process.WorkingSet64);
        }
    }

    /// <summary>A 1 MiB random block repeated up to the length: a cheap source, so the figures measure the pipeline.</summary>
    private sealed class RepeatingStream(long length) : Stream
    {
        private static readonly byte[] Block = TestData.Bytes(1024 * 1024, seed: 99);
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length && _position < length)
            {
                var at = (int)(_position % Block.Length);
                var n = (int)Math.Min(Math.Min(buffer.Length - total, Block.Length - at), length - _position);
                Block.AsSpan(at, n).CopyTo(buffer[total..]);
                total += n;
                _position += n;
            }

            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
