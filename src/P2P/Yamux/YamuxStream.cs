using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Xmbl.Cluster.P2P.Options;

namespace Xmbl.Cluster.P2P.Yamux;

/// <summary>One yamux stream: a reliable, flow-controlled byte stream inside a connection.</summary>
/// <remarks>
/// Reads come from a buffer bounded by the stream's receive window; window updates go out as the application
/// consumes data, so a slow reader slows the sender instead of growing memory. Writes wait for send window.
/// <see cref="CloseWriteAsync"/> half-closes (FIN); <see cref="Reset"/> aborts (RST); disposing half-closes and
/// discards whatever the remote still sends.
/// </remarks>
public sealed class YamuxStream : Stream, IValueTaskSource
{
    // Largest data frame we send (js-yamux's and go-yamux's own size): frames cross Noise messages, so this only sets
    // how finely streams interleave.
    internal const int MaxDataFrame = 64 * 1024;

    // Most of one write handed to the session writer at once, cut there into data frames: each hand-over is a wake-up
    // of the writer and of this writer's continuation, so a bulk write pays for one per 256 KiB, not per frame.
    internal const int MaxWriteBatch = 256 * 1024;

    private readonly YamuxSession _session;
    private readonly Pipe _receive;
    private readonly CountingReader _input;
    private readonly object _lock = new();
    private readonly int _receiveWindowSize;
    private long _sendWindow = P2POptions.InitialStreamWindow;
    private long _receiveWindow;
    private long _unacknowledged;
    private TaskCompletionSource? _windowWaiter;
    private bool _localFin;
    private bool _remoteFin;
    private bool _reset;
    private bool _readerDone;
    private string? _sessionError;
    private ManualResetValueTaskSourceCore<bool> _writeSource = new() { RunContinuationsAsynchronously = true };
    private ReadOnlyMemory<byte> _pendingWrite;
    private PipeWriter? _output;

    internal YamuxStream(YamuxSession session, uint id, bool inbound, int receiveWindow)
    {
        _session = session;
        Id = id;
        IsInbound = inbound;
        _receiveWindowSize = receiveWindow;
        _receiveWindow = P2POptions.InitialStreamWindow;
        // Never pauses: the receive window already bounds what can be buffered.
        _receive = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 16 * 1024, useSynchronizationContext: false));
        _input = new CountingReader(this, _receive.Reader);
    }

    /// <summary>The stream id (odd when the dialer opened it, even when the listener did).</summary>
    public uint Id { get; }

    /// <summary>True when the remote opened the stream.</summary>
    public bool IsInbound { get; }

    /// <summary>The protocol agreed by multistream-select, once negotiated.</summary>
    public string? Protocol { get; internal set; }

    /// <summary>The received bytes, as a pipe (an alternative to <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> that copies nothing).</summary>
    public PipeReader Input => _input;

    /// <summary>A buffered writer over this stream; <c>FlushAsync</c> sends what was written.</summary>
    public PipeWriter Output => _output ??= PipeWriter.Create(this, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));

    internal ReadOnlyMemory<byte> PendingWrite => _pendingWrite;

    internal bool IsFinished
    {
        get
        {
            lock (_lock)
            {
                return _reset || (_localFin && _remoteFin);
            }
        }
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var result = await _input.ReadAsync(cancellationToken);
        var data = result.Buffer;
        if (data.IsEmpty)
        {
            _input.AdvanceTo(data.End);
            return result.IsCompleted ? 0 : throw new OperationCanceledException();
        }

        var n = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, n).CopyTo(buffer.Span);
        _input.AdvanceTo(data.GetPosition(n));
        return n;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n;
            Task? wait = null;
            lock (_lock)
            {
                ThrowIfNotWritable();
                if (_sendWindow > 0)
                {
                    n = (int)Math.Min(Math.Min(_sendWindow, buffer.Length), MaxWriteBatch);
                    _sendWindow -= n;
                }
                else
                {
                    n = 0;
                    wait = (_windowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                }
            }

            if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken);
                continue;
            }

            // Once queued the session writer owns the buffer until it completes the write; it always does (also when
            // the connection fails), so this wait is not cancelled.
            _pendingWrite = buffer[..n];
            _writeSource.Reset();
            _session.EnqueueData(this);
            await new ValueTask(this, _writeSource.Version);
            buffer = buffer[n..];
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Half-closes: sends FIN after everything written so far. Reading goes on until the remote closes.</summary>
    public async ValueTask CloseWriteAsync()
    {
        if (_output is not null)
        {
            await _output.FlushAsync();
        }

        bool finished;
        lock (_lock)
        {
            if (_localFin || _reset || _sessionError is not null)
            {
                return;
            }

            _localFin = true;
            finished = _remoteFin;
        }

        _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Fin, Id, 0));
        if (finished)
        {
            _session.Remove(this);
        }
    }

    /// <summary>Aborts the stream in both directions (RST).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            if (_reset || (_localFin && _remoteFin) || _sessionError is not null)
            {
                return;
            }

            _reset = true;
            _windowWaiter?.TrySetException(new IOException("The stream was reset."));
        }

        _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Rst, Id, 0));
        _receive.Writer.Complete(new IOException("The stream was reset."));
        _session.Remove(this);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        try
        {
            await CloseWriteAsync();
            if (_output is not null)
            {
                await _output.CompleteAsync();
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // The stream or its connection is already gone: nothing left to send.
        }

        await _input.CompleteAsync();
        await base.DisposeAsync();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The synchronous path cannot flush a buffered Output; DisposeAsync does.
            bool fin;
            lock (_lock)
            {
                fin = !_localFin && !_reset && _sessionError is null;
                _localFin = true;
            }

            if (fin)
            {
                _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Fin, Id, 0));
            }

            _input.Complete();
            if (IsFinished)
            {
                _session.Remove(this);
            }
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    void IValueTaskSource.GetResult(short token) => _writeSource.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _writeSource.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _writeSource.OnCompleted(continuation, state, token, flags);

    /// <summary>Called by the session writer once the pending write is in the connection's buffer (or failed).</summary>
    internal void CompleteWrite(Exception? error)
    {
        _pendingWrite = default;
        if (error is null)
        {
            _writeSource.SetResult(true);
        }
        else
        {
            _writeSource.SetException(error);
        }
    }

    /// <summary>Read loop: a data frame's bytes (already checked against the window).</summary>
    internal void Deliver(in ReadOnlySequence<byte> data)
    {
        bool discard;
        lock (_lock)
        {
            discard = _readerDone || _reset;
        }

        if (discard)
        {
            // Nobody reads any more: credit the window straight back so the remote is not stalled on a dead reader.
            OnConsumed(data.Length);
            return;
        }

        var writer = _receive.Writer;
        foreach (var segment in data)
        {
            writer.Write(segment.Span);
        }

        // pauseWriterThreshold is 0, so this completes synchronously.
        var flush = writer.FlushAsync();
        if (flush.IsCompleted)
        {
            _ = flush.Result;
        }
        else
        {
            flush.AsTask().Wait();
        }
    }

    /// <summary>Read loop: checks and takes <paramref name="length"/> bytes of receive window.</summary>
    internal void TakeReceiveWindow(uint length)
    {
        lock (_lock)
        {
            if (_remoteFin)
            {
                throw new P2PProtocolException($"yamux: data on stream {Id} after its FIN.");
            }

            if (length > _receiveWindow)
            {
                throw new P2PProtocolException($"yamux: stream {Id} sent a {length}-byte frame with {_receiveWindow} bytes of window left (window abuse).");
            }

            _receiveWindow -= length;
        }
    }

    internal void AddSendWindow(uint delta)
    {
        lock (_lock)
        {
            _sendWindow += delta;
            if (_sendWindow > uint.MaxValue)
            {
                throw new P2PProtocolException($"yamux: window updates on stream {Id} overflow 2^32 bytes.");
            }

            if (_sendWindow > 0 && _windowWaiter is not null)
            {
                _windowWaiter.TrySetResult();
                _windowWaiter = null;
            }
        }
    }

    internal void OnRemoteFin()
    {
        bool finished;
        lock (_lock)
        {
            if (_remoteFin || _reset)
            {
                return;
            }

            _remoteFin = true;
            finished = _localFin;
        }

        _receive.Writer.Complete();
        if (finished)
        {
            _session.Remove(this);
        }
    }

    internal void OnRemoteReset()
    {
        lock (_lock)
        {
            if (_reset)
            {
                return;
            }

            _reset = true;
            _windowWaiter?.TrySetException(new IOException("The stream was reset by the remote."));
            _windowWaiter = null;
        }

        _receive.Writer.Complete(new IOException("The stream was reset by the remote."));
        _session.Remove(this);
    }

    internal void OnSessionClosed(string reason)
    {
        lock (_lock)
        {
            if (_sessionError is not null)
            {
                return;
            }

            _sessionError = reason;
            _windowWaiter?.TrySetException(new IOException($"The connection closed: {reason}"));
            _windowWaiter = null;
        }

        _receive.Writer.Complete(_remoteFin ? null : new IOException($"The connection closed: {reason}"));
    }

    /// <summary>The application consumed <paramref name="count"/> bytes: give the window back in batches.</summary>
    internal void OnConsumed(long count)
    {
        if (count <= 0)
        {
            return;
        }

        long delta = 0;
        lock (_lock)
        {
            _unacknowledged += count;
            var target = _receiveWindowSize;
            // Top the window up once half of it was consumed (hashicorp's rule), and grow it to the configured size.
            if (!_remoteFin && !_reset && _sessionError is null && _unacknowledged >= target / 2)
            {
                delta = target - _receiveWindow;
                _receiveWindow = target;
                _unacknowledged = 0;
            }
        }

        if (delta > 0)
        {
            _session.EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.None, Id, (uint)delta));
        }
    }

    /// <summary>Opening or acknowledging: the first window update grows the window from 256 KiB to the configured size.</summary>
    internal uint GrowReceiveWindowOnOpen()
    {
        lock (_lock)
        {
            var delta = _receiveWindowSize - _receiveWindow;
            _receiveWindow = _receiveWindowSize;
            return (uint)delta;
        }
    }

    private void ReaderCompleted()
    {
        long buffered;
        lock (_lock)
        {
            _readerDone = true;
            // Received but never read: credit it back, as later data will be.
            buffered = _receiveWindowSize - _receiveWindow - _unacknowledged;
        }

        OnConsumed(buffered);
    }

    private void ThrowIfNotWritable()
    {
        if (_sessionError is not null)
        {
            throw new IOException($"The connection closed: {_sessionError}");
        }

        if (_reset)
        {
            throw new IOException("The stream was reset.");
        }

        if (_localFin)
        {
            throw new InvalidOperationException("The write side of this stream is closed.");
        }
    }

    /// <summary>The stream's pipe reader, counting what the application consumes to drive window updates.</summary>
    private sealed class CountingReader(YamuxStream owner, PipeReader inner) : PipeReader
    {
        private ReadOnlySequence<byte> _last;

        public override bool TryRead(out ReadResult result)
        {
            if (inner.TryRead(out result))
            {
                _last = result.Buffer;
                return true;
            }

            return false;
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var pending = inner.ReadAsync(cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                _last = result.Buffer;
                return new ValueTask<ReadResult>(result);
            }

            return AwaitAsync(pending);
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            var count = _last.Slice(0, consumed).Length;
            _last = default;
            inner.AdvanceTo(consumed, examined);
            owner.OnConsumed(count);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
            inner.Complete(exception);
            owner.ReaderCompleted();
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> pending)
        {
            var result = await pending;
            _last = result.Buffer;
            return result;
        }
    }
}
