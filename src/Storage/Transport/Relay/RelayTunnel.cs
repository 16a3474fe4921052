namespace Xmbl.Cluster.Storage.Transport.Relay;

/// <summary>
/// One tunnel a relayed silo opened to this relay (an upgraded HTTP connection), as a stream the relay's HTTP client
/// writes requests into. While idle it watches for the far end closing: one byte is read ahead, which the relayed silo
/// never sends unprompted, so the read only completes when the tunnel dies (or with the first byte of a response once
/// the tunnel is in use, which the first read then returns).
/// </summary>
internal sealed class RelayTunnel : Stream
{
    private const int Idle = 0, Taken = 1, Closed = 2;

    private readonly Stream _inner;
    private readonly byte[] _first = new byte[1];
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<int>? _readAhead;
    private int _state;

    /// <param name="inner">The upgraded connection.</param>
    /// <param name="onDied">Called once if the tunnel dies while idle.</param>
    public RelayTunnel(Stream inner, Action<RelayTunnel> onDied)
    {
        _inner = inner;
        _readAhead = inner.ReadAsync(_first, 0, 1);
        _readAhead.ContinueWith(
            static (read, state) =>
            {
                _ = read.Exception; // observed: a tunnel that died while idle is no error
                var (tunnel, died) = ((RelayTunnel, Action<RelayTunnel>))state!;
                tunnel.OnReadAhead(died);
            },
            (this, onDied),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Completes when the tunnel is disposed (the upgrade request that carries it may then end).</summary>
    public Task Completion => _closed.Task;

    /// <summary>Takes the idle tunnel for use; false when it already died or was taken.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Idle) == Idle;

    // Still idle when the read-ahead completes: the far end closed (or broke the protocol), so the tunnel is dead.
    private void OnReadAhead(Action<RelayTunnel> died)
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Idle) == Idle)
        {
            died(this);
            Dispose();
        }
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readAhead is { } pending)
        {
            var read = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            _readAhead = null;
            if (read == 0 || buffer.Length == 0)
            {
                return read == 0 ? 0 : throw new InvalidOperationException("A zero-length read came first on a relay tunnel.");
            }

            buffer.Span[0] = _first[0];
            return 1;
        }

        return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Volatile.Write(ref _state, Closed);
            _closed.TrySetResult();
        }

        base.Dispose(disposing);
    }
}
