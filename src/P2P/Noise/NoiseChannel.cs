using System.IO.Pipelines;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>The Noise transport phase: a duplex pipe of plaintext over a duplex pipe of length-prefixed ciphertext.</summary>
/// <remarks>
/// No pumps and no threads of its own: the writer seals full 65535-byte frames as plaintext is written and the rest at
/// each flush, into the raw writer; the reader opens frames when its consumer asks for more bytes. Each hop between
/// threads costs a wake-up per batch on a path whose only real work is the cipher, and reading on demand is also the
/// backpressure: a consumer that stops reading stops the socket reads.
/// </remarks>
internal sealed class NoiseChannel : IDuplexPipe, IAsyncDisposable
{
    public const int MaxPlaintext = NoiseHandshake.MaxMessageLength - NoiseCipher.TagLength;

    private readonly NoiseSession _session;
    private readonly NoiseReader _input;
    private readonly NoiseWriter _output;
    private int _disposed;

    public NoiseChannel(IDuplexPipe raw, NoiseSession session)
    {
        _session = session;
        _input = new NoiseReader(raw.Input, session.Receiver);
        _output = new NoiseWriter(raw.Output, session.Sender);
    }

    public PipeReader Input => _input;

    public PipeWriter Output => _output;

    /// <summary>Completes when the writer has been completed and what it held was handed to the raw writer.</summary>
    public Task WriteCompletion => _output.Completion;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Neither waits on the socket: what the writer still held goes out in the background (WriteCompletion).
        await _output.CompleteAsync();
        await _input.CompleteAsync();
        _session.Sender.Dispose();
        _session.Receiver.Dispose();
    }
}
