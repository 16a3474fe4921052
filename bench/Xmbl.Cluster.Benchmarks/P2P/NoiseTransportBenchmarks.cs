using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Xmbl.Cluster.P2P.Noise;

namespace Xmbl.Cluster.Benchmarks.P2P;

/// <summary>
/// The Noise transport alone, per MiB: sealing 1 MiB written as yamux does (a 12-byte header, then 64 KiB of payload)
/// through <see cref="NoiseWriter"/>, and opening those frames through <see cref="NoiseReader"/>, on each cipher
/// backend (the BCL's OpenSSL ChaCha20-Poly1305 and NSec's libsodium). No socket and no threads: what the cipher and
/// the framing cost, without the machine's load or the kernel in the figure.
/// </summary>
[MemoryDiagnoser]
public class NoiseTransportBenchmarks
{
    private const int Mib = 1 << 20;
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _payload = new byte[64 * 1024];
    private readonly byte[] _header = new byte[12];
    private readonly DiscardingWriter _discard = new();
    private byte[] _sealed = [];

    /// <summary>True for the BCL (OpenSSL), false for NSec (libsodium).</summary>
    [Params(true, false)]
    public bool Bcl { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        new Random(3).NextBytes(_key);
        new Random(4).NextBytes(_payload);
        var wire = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        Seal(new NoiseWriter(wire.Writer, new NoiseCipher(_key, Bcl)));
        wire.Writer.Complete();
        wire.Reader.TryRead(out var result);
        _sealed = result.Buffer.ToArray();
    }

    [Benchmark]
    public void Seal1MiB() => Seal(new NoiseWriter(_discard, new NoiseCipher(_key, Bcl)));

    [Benchmark]
    public async Task<long> Open1MiB()
    {
        using var cipher = new NoiseCipher(_key, Bcl);
        var reader = new NoiseReader(PipeReader.Create(new ReadOnlySequence<byte>(_sealed)), cipher);
        long total = 0;
        while (true)
        {
            var result = await reader.ReadAsync();
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        reader.Complete();
        return total;
    }

    private void Seal(NoiseWriter writer)
    {
        for (var written = 0; written < Mib; written += _payload.Length)
        {
            writer.Write(_header);
            writer.Write(_payload);
        }

        writer.FlushAsync().GetAwaiter().GetResult();
        writer.Complete();
    }

    /// <summary>A raw writer that drops what it is given, so only sealing is measured.</summary>
    private sealed class DiscardingWriter : PipeWriter
    {
        private readonly byte[] _buffer = new byte[256 * 1024];

        public override void Advance(int bytes)
        {
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer;

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => new(new FlushResult(false, false));
    }
}
